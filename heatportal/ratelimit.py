"""Counters in the shared cache (Redis in production), so that every server process counts the
same requests: fixed-window rate limits per credential, and failed authentications (passwords
per user name and per client address, API keys and tokens per client address)."""

from __future__ import annotations

import threading
import time

import redis
from django.conf import settings
from django.core.cache import cache

_redis_clients: dict[str, redis.Redis] = {}


def _redis_client(location: str) -> redis.Redis:
    """One client (and connection pool) per process. Django's cache handler gives every ASGI
    request a fresh backend, hence a fresh Redis connection; the limiter runs on every API
    request, so it keeps its own."""
    client = _redis_clients.get(location)
    if client is None:
        client = _redis_clients[location] = redis.Redis.from_url(location)
    return client


def _redis_location() -> str | None:
    config = settings.CACHES["default"]
    if config["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        return None
    location = config["LOCATION"]
    return location[0] if isinstance(location, (list, tuple)) else location.split(",")[0]


def _count_request(key: str, *, timeout: int, amount: int = 1) -> int:
    """Add ``amount`` to a counter in the shared cache and return it (one round trip to Redis)."""
    location = _redis_location()
    if location is not None:
        full_key = cache.make_and_validate_key(key)
        pipe = _redis_client(location).pipeline(transaction=False)
        pipe.incrby(full_key, amount)
        pipe.expire(full_key, timeout)
        return int(pipe.execute()[0])
    try:
        return cache.incr(key, amount)
    except ValueError:  # the window's first request
        return amount if cache.add(key, amount, timeout=timeout) else cache.incr(key, amount)


class LeasedRateLimit:
    """A fixed-window rate limit per identity (``limit`` requests per window of ``window``
    seconds, all server processes counted together in the shared cache) that does not cost a
    round trip per request.

    The shared counter counts requests *granted to processes*, not requests served: a process
    takes a lease of up to ``max_lease`` requests with one ``INCRBY`` (pipelined with its
    ``EXPIRE``: one round trip) and serves them from memory. The counter's value after the
    ``INCRBY`` says how much of the lease lies within the limit, and only that part is granted,
    so that across every process no more than ``limit`` requests are ever served in a window.
    A lease is at most an eighth of what the counter says is left (at least one request), so
    leases shrink to single requests near the limit. The price: requests leased to a process
    that does not use them before the window ends are lost, so with several processes a client
    may be refused up to ``max_lease`` requests per other process before it has made
    ``limit`` (never more than ``limit``). A process that saw the limit reached refuses the
    key's requests without a round trip until the window ends. Windows are aligned to the
    epoch, so all processes agree on them (``Retry-After`` is the time left in the window).
    """

    def __init__(self, scope: str, *, max_lease: int = 32):
        self.scope = scope
        self.max_lease = max_lease
        self._lock = threading.Lock()
        # counter key → [window start, requests left in the lease, counter after the last lease]
        self._leases: dict[object, list[int]] = {}

    def hit(self, identity: object, *, limit: int, window: int) -> int | None:
        """Count one request of ``identity``: None while within ``limit``, else the whole
        seconds to wait. A limit of 0 or less means no limit."""
        if limit <= 0:
            return None
        now = time.time()
        window_start = int(now // window) * window
        key = f"rl:{self.scope}:{identity}:{window_start}"
        # The lease is of that counter (the key in the cache's key space), in this process.
        # Not cache.make_key: it would build the request's cache backend first, a new one per
        # async request.
        lease_key = f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:{key}"
        with self._lock:  # held over a lease's round trip: the lease is not taken twice
            lease = self._leases.get(lease_key)
            if lease is None:
                if len(self._leases) >= 10_000:
                    self._leases = {k: v for k, v in self._leases.items() if v[0] == window_start}
                lease = self._leases[lease_key] = [window_start, 0, 0]
            if lease[1] > 0:
                lease[1] -= 1
                return None
            if lease[2] < limit:
                size = max(1, min(self.max_lease, (limit - lease[2]) // 8))
                total = _count_request(key, timeout=window + 1, amount=size)
                granted = min(size, limit - (total - size))
                lease[2] = total
                if granted > 0:
                    lease[1] = granted - 1
                    return None
        return max(1, int(window_start + window - now + 0.999))


# --- Failed authentications -------------------------------------------------------------------
# A window that opens at an identity's first failure and lasts ``window`` seconds: ``limit``
# failures in it lock the identity until it closes, so no more than ``limit`` failures ever fit
# in ``window`` seconds, and ``Retry-After`` is the time the window has left.


def _failure_key(scope: str, identity: object) -> str:
    return f"authfail:{scope}:{identity}"


def failures_read(*counters: tuple[str, object]) -> list[tuple[int, int]]:
    """For each ``(scope, identity)``: the failures counted in its current window and the whole
    seconds the window has left ((0, 0) when none). One round trip to Redis for all of them."""
    keys = [_failure_key(scope, identity) for scope, identity in counters]
    location = _redis_location()
    if location is not None:
        pipe = _redis_client(location).pipeline(transaction=False)
        for key in keys:
            full_key = cache.make_and_validate_key(key)
            pipe.get(full_key)
            pipe.ttl(full_key)
        answers = pipe.execute()
        return [
            (int(count), max(1, ttl)) if count is not None else (0, 0)
            for count, ttl in zip(answers[::2], answers[1::2], strict=True)
        ]
    found = cache.get_many(keys)
    now, read = time.time(), []
    for key in keys:
        count, closes_at = found.get(key) or (0, 0.0)
        left = closes_at - now
        read.append((count, max(1, int(left + 0.999))) if left > 0 else (0, 0))
    return read


def failures_retry_after(scope: str, identity: object, *, limit: int) -> int | None:
    """None while ``identity`` has fewer than ``limit`` failures in ``scope``'s current window;
    else the whole seconds until the window closes. Counts nothing. A limit of 0 or less means
    no limit."""
    if limit <= 0:
        return None
    [(count, left)] = failures_read((scope, identity))
    return left if count >= limit else None


def failure_record(scope: str, identity: object, *, window: int) -> None:
    """Count one failed authentication of ``identity``; the first one opens its window."""
    key = _failure_key(scope, identity)
    location = _redis_location()
    if location is not None:
        full_key = cache.make_and_validate_key(key)
        pipe = _redis_client(location).pipeline(transaction=True)  # MULTI: the key cannot expire between
        pipe.set(full_key, 0, ex=window, nx=True)
        pipe.incr(full_key)
        pipe.execute()
        return
    # The embedded default (file cache): read-modify-write, so two processes failing at the
    # same instant may count one failure instead of two.
    now = time.time()
    count, closes_at = cache.get(key) or (0, 0.0)
    if closes_at <= now:
        count, closes_at = 0, now + window
    cache.set(key, (count + 1, closes_at), timeout=int(closes_at - now) + 1)


def failures_clear(scope: str, identity: object) -> None:
    """Forget the failures of ``identity`` (after a successful sign-in)."""
    cache.delete(_failure_key(scope, identity))


def client_address(request) -> str:
    """The client's address as the server saw it: ``REMOTE_ADDR``. Behind a reverse proxy,
    ``FORWARDED_ALLOW_IPS`` names it, so that the address comes from its forwarding headers
    (heatportal/lanes.py); otherwise every client counts as the proxy."""
    return (request.META.get("REMOTE_ADDR") or "") if request is not None else ""
