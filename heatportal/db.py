"""Database work from async code.

An async view or task that needs the database runs its sync part with :func:`db_call`: on the
web process's pool (:func:`heatportal.threads.web_threads`; not a thread of its own per
request, as thread-sensitive ``sync_to_async`` would give it under Django's ASGI handler),
giving its connection back when done, so that an async request holds a database connection
only while it queries.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import connections

from heatportal.threads import web_threads

P = ParamSpec("P")
T = TypeVar("T")


def connections_release() -> None:
    """Give this thread's PostgreSQL connections back to their pool, when there is one
    (``DATABASE_POOL_MAX_SIZE``).

    Otherwise a connection stays with its thread (heatportal/threads.py: at most WEB_THREADS of
    them), as SQLite's always do: reconnecting on every call would cost more than the query.
    """
    for connection in connections.all(initialized_only=True):
        if getattr(connection, "pool", None) is not None and not connection.in_atomic_block:
            connection.close()


def db_call(fn: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """An async version of ``fn`` that runs on the shared thread pool and gives its database
    connection back when done (:func:`connections_release`)."""

    def releasing(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            connections_release()

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return await sync_to_async(releasing, thread_sensitive=False, executor=web_threads())(*args, **kwargs)

    return wrapper
