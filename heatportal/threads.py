"""The web process's threads for synchronous work (docs/decisions.md, "Server").

Every synchronous view (the API and pages lanes of :mod:`heatportal.lanes`) and every database
call of an async view (:func:`heatportal.db.db_call`) runs on one pool of ``WEB_THREADS``
threads. A plain ``ThreadPoolExecutor`` hands ten queued requests to ten threads at once, and
ten threads that take turns on the GIL pay for it: each turn is a futex wake and a context
switch, and each thread resumes with cold caches. Measured in process (bench/profile_request.py
and the lanes driven without a server), the runner's status at ten concurrent requests cost
548 us of CPU each on sixteen threads, 321 us on one.

So this pool runs queued work on as few threads as keep it moving: a thread that finishes a
call takes the next one itself, and another thread is woken only when work has waited
``spare_after`` seconds while no thread took any (the running ones are blocked: a slow query,
an upload being read, a lock), or when no thread is busy at all. A request is never held up
by more than ``spare_after`` behind a blocked one, and quick requests run one after another
on a warm thread.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class WebThreads(ThreadPoolExecutor):
    """A pool of at most ``max_workers`` threads that wakes a second one only when needed.

    A ``ThreadPoolExecutor`` by type (asyncio's ``run_in_executor`` and asgiref's
    ``sync_to_async(executor=...)`` take it), with its own queue and workers."""

    def __init__(self, max_workers: int, *, spare_after: float = 0.002, thread_name_prefix: str = "web"):
        self._max = max_workers
        self._spare_after = spare_after
        self._prefix = thread_name_prefix
        self._lock = threading.Lock()
        self._work: collections.deque = collections.deque()
        self._idle: list[threading.Lock] = []  # wake-up locks of idle threads, latest last
        self._busy = 0  # threads not idle (running a call, or woken to take one)
        self._started = 0
        self._last_take = 0.0  # when a thread last took work (monotonic)
        self._watching = False
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._work.append((future, fn, args, kwargs))
            if self._busy == 0:
                self._wake_one()
            elif not self._watching:
                self._watch_later()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            if cancel_futures:
                while self._work:
                    self._work.popleft()[0].cancel()
            idle, self._idle = self._idle, []
            self._busy += len(idle)
        for wake in idle:  # each idle thread wakes, finds the pool closed and ends
            wake.release()

    # --- Internals (self._lock held where said) ----------------------------------------------

    def _wake_one(self) -> None:
        """Wake the most recently idle thread, or start one (lock held)."""
        if self._idle:
            self._busy += 1
            self._idle.pop().release()
        elif self._started < self._max:
            self._busy += 1
            self._started += 1
            name = f"{self._prefix}_{self._started}"
            threading.Thread(target=self._worker, name=name, daemon=True).start()

    def _watch_later(self) -> None:
        """Check again in ``spare_after`` whether queued work is moving (lock held)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # submitted from a thread: no loop to wait on, so no waiting
            self._wake_one()
            return
        self._watching = True
        loop.call_later(self._spare_after, self._watch, loop)

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            if not self._work or self._closed:
                self._watching = False
                return
            if time.monotonic() - self._last_take >= self._spare_after:
                self._wake_one()  # nothing taken lately: the busy threads are blocked
        loop.call_later(self._spare_after, self._watch, loop)

    def _worker(self) -> None:
        wake = threading.Lock()
        wake.acquire()
        while True:
            with self._lock:
                if self._work:
                    item = self._work.popleft()
                    self._last_take = time.monotonic()
                elif self._closed:
                    self._busy -= 1
                    return
                else:
                    self._busy -= 1
                    self._idle.append(wake)
                    item = None
            if item is None:
                wake.acquire()  # released by _wake_one (or shutdown)
                continue
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:
                future.set_exception(error)
                del error
            else:
                future.set_result(result)
            del item, future, fn, args, kwargs


_pool: WebThreads | None = None
_pool_lock = threading.Lock()


def web_threads() -> WebThreads:
    """The process's pool (``WEB_THREADS`` threads), made on first use."""
    global _pool
    if _pool is None:
        from django.conf import settings

        with _pool_lock:
            if _pool is None:
                _pool = WebThreads(settings.WEB_THREADS)
    return _pool
