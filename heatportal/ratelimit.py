"""Fixed-window rate limits per credential, counted in the shared cache (Redis in production),
so that every server process counts the same requests."""

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


def _count_request(key: str, *, timeout: int) -> int:
    """Add one to a counter in the shared cache and return it."""
    config = settings.CACHES["default"]
    if config["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        location = config["LOCATION"]
        location = location[0] if isinstance(location, (list, tuple)) else location.split(",")[0]
        full_key = cache.make_and_validate_key(key)
        pipe = _redis_client(location).pipeline(transaction=False)
        pipe.incr(full_key)
        pipe.expire(full_key, timeout)
        return int(pipe.execute()[0])
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request
        return 1 if cache.add(key, 1, timeout=timeout) else cache.incr(key)


def rate_limit_hit(scope: str, identity: object, *, limit: int, window: int) -> int | None:
    """Count one request of ``identity`` in ``scope``'s current window of ``window`` seconds;
    None while within ``limit``, else the whole seconds to wait (for ``Retry-After``).
    A limit of 0 or less means no limit."""
    if limit <= 0:
        return None
    now = time.time()
    window_start = int(now // window) * window
    count = _count_request(f"rl:{scope}:{identity}:{window_start}", timeout=window + 1)
    if count <= limit:
        return None
    return max(1, int(window_start + window - now + 0.999))
