"""Fixed-window counters in the shared cache (Redis in production), so that every server
process counts the same requests: rate limits per credential, and failed authentications
(passwords per user name and per client address, API keys and tokens per client address)."""

from __future__ import annotations

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


def _count_request(key: str, *, timeout: int) -> int:
    """Add one to a counter in the shared cache and return it."""
    location = _redis_location()
    if location is not None:
        full_key = cache.make_and_validate_key(key)
        pipe = _redis_client(location).pipeline(transaction=False)
        pipe.incr(full_key)
        pipe.expire(full_key, timeout)
        return int(pipe.execute()[0])
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request
        return 1 if cache.add(key, 1, timeout=timeout) else cache.incr(key)


def _read_count(key: str) -> int:
    location = _redis_location()
    if location is not None:
        return int(_redis_client(location).get(cache.make_and_validate_key(key)) or 0)
    return int(cache.get(key) or 0)


def _window(window: int) -> tuple[int, int]:
    """The start of the current window and the whole seconds left in it."""
    now = time.time()
    start = int(now // window) * window
    return start, max(1, int(start + window - now + 0.999))


def rate_limit_hit(scope: str, identity: object, *, limit: int, window: int) -> int | None:
    """Count one request of ``identity`` in ``scope``'s current window of ``window`` seconds;
    None while within ``limit``, else the whole seconds to wait (for ``Retry-After``).
    A limit of 0 or less means no limit."""
    if limit <= 0:
        return None
    window_start, left = _window(window)
    count = _count_request(f"rl:{scope}:{identity}:{window_start}", timeout=window + 1)
    return None if count <= limit else left


# --- Failed authentications -------------------------------------------------------------------
# A fixed window, like the rate limits: ``limit`` failures of one identity in a window lock it
# until the window ends (so at most 2 x limit failures fit in a short time astride a window
# boundary), and ``Retry-After`` is exact.


def _failure_key(scope: str, identity: object, window_start: int) -> str:
    return f"authfail:{scope}:{identity}:{window_start}"


def failures_retry_after(scope: str, identity: object, *, limit: int, window: int) -> int | None:
    """None while ``identity`` has fewer than ``limit`` failures in ``scope``'s current window;
    else the whole seconds until the window ends. Counts nothing. A limit of 0 or less means
    no limit."""
    if limit <= 0:
        return None
    window_start, left = _window(window)
    return left if _read_count(_failure_key(scope, identity, window_start)) >= limit else None


def failure_record(scope: str, identity: object, *, window: int) -> None:
    """Count one failed authentication of ``identity`` in the current window."""
    window_start, _left = _window(window)
    _count_request(_failure_key(scope, identity, window_start), timeout=window + 1)


def failures_clear(scope: str, identity: object, *, window: int) -> None:
    """Forget the current window's failures of ``identity`` (after a successful sign-in)."""
    window_start, _left = _window(window)
    cache.delete(_failure_key(scope, identity, window_start))


def client_address(request) -> str:
    """The client's address as the server saw it: ``REMOTE_ADDR``. Behind a reverse proxy the
    ASGI server must set it from the forwarding headers (uvicorn ``--proxy-headers
    --forwarded-allow-ips=<proxy address>``), or every client counts as the proxy."""
    return (request.META.get("REMOTE_ADDR") or "") if request is not None else ""
