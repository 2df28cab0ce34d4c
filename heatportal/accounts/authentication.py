import functools

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled

from heatportal.accounts.models import AccessToken
from heatportal.api.authentication import request_header
from heatportal.credentials import CredentialThrottled, InvalidCredential, credential_authenticate
from heatportal.ratelimit import client_address


@functools.cache
def _tokens():
    """Built once: a request clones it (by lookup id) only when its token is not in the cache
    of verified credentials. Never evaluated itself."""
    return AccessToken.objects.select_related("user").filter(user__is_active=True)


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <access token>`` from HEAT Auth (v2 API, scenario runner)."""

    def authenticate(self, request):
        scheme, _, value = request_header(request, "Authorization").partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            token = credential_authenticate(
                _tokens(), value.strip(), client_address=client_address(request), cache=True
            )
        except CredentialThrottled as throttled:
            raise Throttled(wait=throttled.retry_after, detail=str(throttled)) from None
        except InvalidCredential as error:
            raise AuthenticationFailed("Unauthorized") from error
        return token.user, token

    def authenticate_header(self, request):
        return "Bearer"
