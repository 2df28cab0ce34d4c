"""The crowd API's credential: a crowd key, sent as ``X-Heat-API-Key`` or as the user name of
HTTP Basic (``curl -u "KEY:"``), and its per-key rate limit."""

from __future__ import annotations

import base64
import binascii

from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.throttling import BaseThrottle

from crowd_app.models import CrowdApiKey
from crowd_app.ratelimit import rate_limit_retry_after
from heatportal.api.authentication import request_header
from heatportal.credentials import CredentialThrottled, InvalidCredential, credential_authenticate
from heatportal.ratelimit import client_address

UNAUTHORIZED = "Unauthorized: no valid API key provided"
SLOW_DOWN = "Too many requests: slow down"


class TooManyRequests(Throttled):
    """A 429 with the crowd API's own message (DRF's Throttled appends "Expected available in
    N seconds" to any message); ``wait`` gives Retry-After."""

    def __init__(self, message: str, *, wait: int):
        super().__init__(detail=message)
        self.wait = wait


class CrowdPrincipal:
    """``request.user`` of a call made with a crowd key: authenticated, not a person."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, api_key: CrowdApiKey):
        self.api_key = api_key


def presented_key(request: HttpRequest) -> str:
    """``X-Heat-API-Key``, or the user name of HTTP Basic (``curl -u "KEY:"``)."""
    value = request_header(request, "X-Heat-API-Key").strip()
    if value:
        return value
    scheme, _, encoded = request_header(request, "Authorization").partition(" ")
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(encoded.strip(), validate=True).decode().partition(":")[0].strip()
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


class CrowdKeyAuthentication(BaseAuthentication):
    """``request.auth`` is the CrowdApiKey. The crowd API has no other credential, so a call
    without a key is refused here (401 with the document's message), not passed on."""

    def authenticate(self, request):
        try:
            api_key = credential_authenticate(
                CrowdApiKey.objects,  # the manager: no QuerySet built on a cache hit (the common case)
                presented_key(request),
                client_address=client_address(request),
                cache=True,
            )
        except CredentialThrottled as throttled:
            raise TooManyRequests(str(throttled), wait=throttled.retry_after) from None
        except InvalidCredential:
            raise AuthenticationFailed(UNAUTHORIZED) from None
        return CrowdPrincipal(api_key), api_key

    def authenticate_header(self, request):
        return 'Basic realm="heat"'


class CrowdKeyRateLimit(BaseThrottle):
    """``CROWD_RATE_LIMIT_PER_MINUTE`` calls per key (every process counts in the shared cache)."""

    retry_after: int | None = None

    def allow_request(self, request, view) -> bool:
        self.retry_after = rate_limit_retry_after(api_key=request.auth)
        return self.retry_after is None

    def wait(self) -> int | None:
        return self.retry_after


class CrowdKeyScheme(OpenApiAuthenticationExtension):
    target_class = CrowdKeyAuthentication
    name = ["crowdApiKey", "crowdBasic"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "X-Heat-API-Key",
                "description": "A crowd API key (live, or test_... for staging).",
            },
            {
                "type": "http",
                "scheme": "basic",
                "description": 'The crowd API key as the user name, no password (curl -u "KEY:").',
            },
        ]

    def get_security_requirement(self, auto_schema):
        return [{"crowdApiKey": []}, {"crowdBasic": []}]
