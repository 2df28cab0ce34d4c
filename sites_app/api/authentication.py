"""Credentials of the sites APIs: access-group API keys (public API), device tokens (gateway)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.throttling import BaseThrottle

from heatportal.api.authentication import request_header
from heatportal.credentials import CredentialThrottled, InvalidCredential, credential_authenticate
from heatportal.ratelimit import LeasedRateLimit, client_address
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
        header = request_header(request, "Authorization").strip()
        if not header:
            raise AuthenticationFailed(self.missing)
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            raise AuthenticationFailed(self.malformed)
        if not any(kind.parse(value) for kind in self.model.KINDS):
            raise AuthenticationFailed(self.malformed)
        try:
            credential = credential_authenticate(
                self.queryset(), value, client_address=client_address(request), cache=True
            )
        except CredentialThrottled as throttled:
            raise Throttled(wait=throttled.retry_after, detail=str(throttled)) from None
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


class PerKeyRateThrottle(BaseThrottle):
    """``SITES_API_RATE_LIMIT`` requests per fixed window of ``SITES_API_RATE_WINDOW`` seconds
    per credential (API key or device token), counted for all server processes together
    through the shared cache, in leases (:class:`heatportal.ratelimit.LeasedRateLimit`): a
    process takes a few requests of the window's allowance in one round trip and spends them
    locally, so most requests cost no round trip, and no more than the limit are ever served
    in a window, whatever the number of processes."""

    scope = "sites"
    limiter = LeasedRateLimit("sites")

    def allow_request(self, request, view):
        credential = request.auth
        if credential is None:
            return True
        self._wait = self.limiter.hit(
            f"{type(credential).__name__}:{credential.pk}",
            limit=settings.SITES_API_RATE_LIMIT,
            window=settings.SITES_API_RATE_WINDOW,
        )
        return self._wait is None

    def wait(self):
        return self._wait
