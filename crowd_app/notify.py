"""Waking clients that block on a request (``?block=N``) when it completes.

Whoever completes a request (a worker, a portal page) calls :func:`request_done_publish` after
its transaction commits. Each server process has ONE :class:`WakeHub` per event loop that maps
request ids to the asyncio events of the clients waiting on them:

- with ``REDIS_URL``, the hub holds one pub/sub subscription to ``crowd:done`` for the whole
  process and sets the events named by each message;
- on the embedded default, one poller task per process asks the database, every
  ``CROWD_WAKE_POLL_INTERVAL`` seconds, which of *all* the waited-on requests are done (one
  query for every waiter together, in chunks).

A waiting client holds no thread and no database connection: only an asyncio event.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)
CHANNEL = "crowd:done"
T = TypeVar("T")


def db_call(fn: Callable[..., T]) -> Callable[..., Any]:
    """An async version of ``fn`` that runs on the shared thread pool (not a thread of its own
    per request) and gives its database connection back when done."""

    def closing(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            for connection in connections.all(initialized_only=True):
                if not connection.in_atomic_block:
                    connection.close()

    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        return await sync_to_async(closing, thread_sensitive=False)(*args, **kwargs)

    return wrapper


_redis_client = None


def request_done_publish(request_id: str) -> None:
    """Tell every server process that ``request_id`` is no longer pending (after commit)."""
    global _redis_client
    if not settings.REDIS_URL:
        return  # the embedded poller finds it
    try:
        if _redis_client is None:
            import redis

            _redis_client = redis.Redis.from_url(settings.REDIS_URL)
        _redis_client.publish(CHANNEL, str(request_id))
    except Exception:  # a waiter still wakes at its deadline and reads the database
        logger.exception("could not publish completion of %s", request_id)


@db_call
def _done_among(ids: list[str]) -> list[str]:
    from crowd_app.models import CrowdRequest

    done: list[str] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        done += [
            str(pk)
            for pk in CrowdRequest.objects.filter(pk__in=chunk)
            .exclude(status=CrowdRequest.Status.PENDING)
            .values_list("pk", flat=True)
        ]
    return done


class WakeHub:
    def __init__(self) -> None:
        self.waiters: dict[str, set[asyncio.Event]] = {}
        self.task: asyncio.Task | None = None
        self.subscribed = asyncio.Event()

    @property
    def uses_redis(self) -> bool:
        return bool(settings.REDIS_URL)

    def register(self, request_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self.waiters.setdefault(request_id, set()).add(event)
        if self.task is None or self.task.done():
            self.subscribed.clear()
            self.task = asyncio.get_running_loop().create_task(
                self._listen() if self.uses_redis else self._poll()
            )
        return event

    def unregister(self, request_id: str, event: asyncio.Event) -> None:
        events = self.waiters.get(request_id)
        if events is not None:
            events.discard(event)
            if not events:
                del self.waiters[request_id]

    def wake(self, request_id: str) -> None:
        for event in self.waiters.get(request_id, ()):
            event.set()

    async def ready(self, timeout: float = 2.0) -> None:
        """Until the Redis subscription is in place (immediately for the poller)."""
        if self.uses_redis:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.subscribed.wait(), timeout)

    async def _poll(self) -> None:
        while True:
            if not self.waiters:
                self.task = None
                return
            await asyncio.sleep(settings.CROWD_WAKE_POLL_INTERVAL)
            ids = list(self.waiters)
            if not ids:
                continue
            try:
                for request_id in await _done_among(ids):
                    self.wake(request_id)
            except Exception:
                logger.exception("wake poll failed")

    async def _listen(self) -> None:
        import redis.asyncio as aioredis

        # Runs while somebody waits; the next waiter starts a new one. ``self.task`` is cleared
        # before the first await on the way out, so that a waiter arriving meanwhile starts
        # its own listener instead of relying on this ending one.
        while True:
            client = aioredis.Redis.from_url(settings.REDIS_URL)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                self.subscribed.set()
                while True:
                    if not self.waiters:
                        self.task = None
                        self.subscribed.clear()
                        return
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message and message.get("type") == "message":
                        self.wake(message["data"].decode())
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("wake subscription lost; reconnecting")
                self.subscribed.clear()
                await asyncio.sleep(0.5)
            finally:
                await pubsub.aclose()
                await client.aclose()


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, WakeHub] = weakref.WeakKeyDictionary()


def hub() -> WakeHub:
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = WakeHub()
    return _hubs[loop]
