"""Waking clients that block on a request (``?block=N``) when it completes.

Whoever completes a request (a worker, a portal page) calls :func:`request_done_publish` after
its transaction commits. Each server process has ONE :class:`WakeHub` per event loop that maps
request ids to the asyncio events of the clients waiting on them:

- with ``REDIS_URL``, the hub holds one pub/sub subscription to ``crowd:done`` for the whole
  process and sets the events named by each message;
- on the embedded default, completions touch a signal file in the data folder; one poller
  task per process watches it (``CROWD_WAKE_SIGNAL_INTERVAL``, a stat() call) and, when it
  changed or at the latest every ``CROWD_WAKE_POLL_INTERVAL`` seconds, asks the database which
  of *all* the waited-on requests are done (one query for every waiter together).

A waiting client holds no thread and no database connection: only an asyncio event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from datetime import datetime, timedelta
from pathlib import Path

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.utils import timezone

from heatportal.db import db_call

logger = logging.getLogger(__name__)
CHANNEL = "crowd:done"


_redis_client = None


def release_request_thread() -> None:
    """Let go of the thread Django's ASGI handler keeps for this request's thread-sensitive
    sync code (its request_started signal receivers ran there) before a long wait, so that a
    waiting client does not keep an idle thread. Later sync code of the request gets a new one.
    The server's async lane (heatportal.lanes.LeanASGIHandler) gives a request no such thread:
    there, this does nothing; it matters under Django's own handler (tests' async client).
    """
    executors = getattr(SyncToAsync, "context_to_thread_executor", None)  # asgiref internals
    context = SyncToAsync.thread_sensitive_context.get(None)
    if context is not None and executors is not None:
        executor = executors.pop(context, None)
        if executor is not None:
            executor.shutdown(wait=False)


def request_done_publish(request_id: str) -> None:
    """Tell every server process that ``request_id`` is no longer pending (after commit)."""
    global _redis_client
    if not settings.REDIS_URL:
        # Embedded default: bump the modification time of a file in the data folder, which the
        # pollers of every process on this machine watch; they then ask the database.
        try:
            _signal_file().touch()
        except OSError:
            logger.exception("could not signal completion of %s", request_id)
        return
    try:
        if _redis_client is None:
            import redis

            _redis_client = redis.Redis.from_url(settings.REDIS_URL)
        _redis_client.publish(CHANNEL, str(request_id))
    except Exception:  # a waiter still wakes at its deadline and reads the database
        logger.exception("could not publish completion of %s", request_id)


def _signal_file() -> Path:
    return Path(settings.DATA_DIR) / "crowd-done.signal"


def _signal_mark() -> int:
    try:
        return _signal_file().stat().st_mtime_ns
    except OSError:
        return 0


@db_call
def _done_bodies(ids: list[str], *, completed_since: datetime | None = None) -> dict[str, dict]:
    """The Request objects of those of ``ids`` that are no longer pending.

    With ``completed_since``, only requests completed since then are looked at (an index range
    on ``completed_at``, as cheap with 10 waiters as with 10,000); without, all of ``ids`` in
    one ``IN`` query. Bodies are read only for the done ones, in three queries. (Few queries,
    not only few rows: each query hands the GIL back and forth with the busy event loop.)
    """
    from django.db.models import Prefetch

    from crowd_app.models import CrowdAnswer, CrowdRequest

    wanted = set(ids)
    done: list[str] = []
    if completed_since is not None:
        recent = CrowdRequest.objects.filter(completed_at__gte=completed_since).values_list("pk", flat=True)
        done = [request_id for request_id in map(str, recent) if request_id in wanted]
    else:
        for start in range(0, len(ids), 900):
            done += map(
                str,
                CrowdRequest.objects.filter(pk__in=ids[start : start + 900])
                .exclude(status=CrowdRequest.Status.PENDING)
                .values_list("pk", flat=True),
            )
    if not done:
        return {}
    from crowd_app.api.outputs import request_json

    answers = Prefetch("answers", queryset=CrowdAnswer.objects.select_related("cruncher"))
    return {
        str(crowd_request.pk): request_json(crowd_request)
        for crowd_request in CrowdRequest.objects.filter(pk__in=done).prefetch_related(answers)
    }


class WakeHub:
    """The waiting clients of one event loop, and the one task that wakes them."""

    def __init__(self) -> None:
        self.waiters: dict[str, set[asyncio.Future]] = {}
        self.task: asyncio.Task | None = None
        self.subscribed = asyncio.Event()

    @property
    def uses_redis(self) -> bool:
        return bool(settings.REDIS_URL)

    def register(self, request_id: str) -> asyncio.Future:
        """A future that receives the request's JSON once it is no longer pending."""
        future = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(request_id, set()).add(future)
        if self.task is None or self.task.done():
            self.subscribed.clear()
            self.task = asyncio.get_running_loop().create_task(
                self._listen() if self.uses_redis else self._poll()
            )
        return future

    def unregister(self, request_id: str, future: asyncio.Future) -> None:
        futures = self.waiters.get(request_id)
        if futures is not None:
            futures.discard(future)
            if not futures:
                del self.waiters[request_id]

    async def wake(self, ids: list[str], completed_since: datetime | None = None) -> None:
        ids = [request_id for request_id in dict.fromkeys(ids) if request_id in self.waiters]
        if not ids:
            return
        try:
            bodies = await _done_bodies(ids, completed_since=completed_since)
        except Exception:
            logger.exception("could not read completed requests")
            return
        for request_id, body in bodies.items():
            for future in list(self.waiters.get(request_id, ())):
                if not future.done():
                    future.set_result(body)

    async def ready(self, timeout: float = 2.0) -> None:
        """Until the Redis subscription is in place (immediately for the poller)."""
        if self.uses_redis:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.subscribed.wait(), timeout)

    async def _poll(self) -> None:
        # Watch the signal file (a stat() call: no query, no thread). When it changed, ask for
        # what completed lately plus the waiters that arrived since the last look (at most one
        # look per CROWD_WAKE_MIN_GAP, so that a stream of completions is batched); every
        # CROWD_WAKE_POLL_INTERVAL, ask about every waiter (completions nobody signalled).
        seen = _signal_mark()
        last_full = last_look = time.monotonic()
        looked_at = timezone.now()
        known: set[str] = set()
        while True:
            if not self.waiters:
                self.task = None
                return
            await asyncio.sleep(settings.CROWD_WAKE_SIGNAL_INTERVAL)
            mark, now = _signal_mark(), time.monotonic()
            arrived = [request_id for request_id in self.waiters if request_id not in known]
            if now - last_full >= settings.CROWD_WAKE_POLL_INTERVAL:
                last_full = last_look = now
                seen, looked_at, known = mark, timezone.now(), set(self.waiters)
                await self.wake(list(self.waiters))
            elif (mark != seen or arrived) and now - last_look >= settings.CROWD_WAKE_MIN_GAP:
                # Completed-at times come from this machine's clock (embedded mode: one
                # machine); the margin covers transactions that committed a little late.
                since = looked_at - timedelta(seconds=5)
                seen, looked_at, last_look = mark, timezone.now(), now
                known.update(arrived)
                if arrived:
                    await self.wake(arrived)
                await self.wake(list(self.waiters), completed_since=since)

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
                    ids: list[str] = []
                    while message is not None and len(ids) < 1000:  # take what has arrived, in one go
                        if message.get("type") == "message":
                            ids.append(message["data"].decode())
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0)
                    if ids:
                        await self.wake(ids)
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
