"""Credentials of the sites APIs: access-group API keys (public API), device tokens (gateway)."""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.throttling import BaseThrottle

from heatportal.credentials import InvalidCredential, credential_authenticate
from sites_app.models import SiteApiKey, SiteDeviceToken

MISSING_KEY = "Missing API key. Send it as: Authorization: Bearer agk_<id>.ags_<secret>"
MALFORMED_KEY = "Malformed API key. Expected: Authorization: Bearer agk_<id>.ags_<secret>"
INVALID_KEY = "Invalid API key: unknown, revoked or expired."
MISSING_TOKEN = "Missing device token. Send it as: Authorization: Bearer hdt_<id>.<secret>"  # noqa: S105 (a message, not a secret)
MALFORMED_TOKEN = "Malformed device token. Expected: Authorization: Bearer hdt_<id>.<secret>"  # noqa: S105 (a message, not a secret)
INVALID_TOKEN = "Invalid device token: unknown or revoked."  # noqa: S105 (a message, not a secret)


class Principal:
    """``request.user`` of a request made with a key or token: authenticated, not a person."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, credential):
        self.credential = credential

    def __str__(self) -> str:
        return str(self.credential)


class _BearerCredentialAuthentication(BaseAuthentication):
    model: type
    missing: str
    malformed: str
    invalid: str

    def queryset(self):
        return self.model.objects.all()

    def authenticate(self, request):
        header = get_authorization_header(request).decode("latin-1").strip()
        if not header:
            raise AuthenticationFailed(self.missing)
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            raise AuthenticationFailed(self.malformed)
        if not any(kind.parse(value) for kind in self.model.KINDS):
            raise AuthenticationFailed(self.malformed)
        try:
            credential = credential_authenticate(self.queryset(), value)
        except InvalidCredential as error:
            raise AuthenticationFailed(self.invalid) from error
        return Principal(credential), credential

    def authenticate_header(self, request):
        return "Bearer"


class SiteApiKeyAuthentication(_BearerCredentialAuthentication):
    """``Authorization: Bearer agk_<id>.ags_<secret>``; ``request.auth`` is the SiteApiKey."""

    model = SiteApiKey
    missing, malformed, invalid = MISSING_KEY, MALFORMED_KEY, INVALID_KEY


class DeviceTokenAuthentication(_BearerCredentialAuthentication):
    """``Authorization: Bearer hdt_<id>.<secret>``; ``request.auth`` is the SiteDeviceToken."""

    model = SiteDeviceToken
    missing, malformed, invalid = MISSING_TOKEN, MALFORMED_TOKEN, INVALID_TOKEN

    def queryset(self):
        return SiteDeviceToken.objects.select_related("site")


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
    """Add one to a counter in the shared cache (Redis in production) and return it."""
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


class PerKeyRateThrottle(BaseThrottle):
    """A fixed window per credential, counted in the shared cache (Redis in production), so
    every server process counts the same requests. ``SITES_API_RATE_LIMIT`` per
    ``SITES_API_RATE_WINDOW`` seconds."""

    scope = "sites"

    def allow_request(self, request, view):
        credential = request.auth
        if credential is None:
            return True
        window = settings.SITES_API_RATE_WINDOW
        now = time.time()
        window_start = int(now // window) * window
        key = f"rl:{self.scope}:{type(credential).__name__}:{credential.pk}:{window_start}"
        count = _count_request(key, timeout=window + 1)
        self._wait = window_start + window - now
        return count <= settings.SITES_API_RATE_LIMIT

    def wait(self):
        return max(1, int(self._wait + 0.999))
