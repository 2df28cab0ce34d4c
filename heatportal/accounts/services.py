import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from heatportal.accounts.models import AccessToken, RefreshToken, User
from heatportal.credentials import (
    InvalidCredential,
    credential_authenticate,
    credential_issue,
    credential_revoke,
)
from heatportal.ratelimit import failure_record, failures_clear, failures_read


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    password: str | None = None,
    email: str = "",
    is_staff: bool = False,
) -> User:
    """Create a user. Without a password the account cannot sign in until one is set."""
    if role not in User.Role.values:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(User.Role.values)}.")
    user = User(username=username, email=email, role=role, is_staff=is_staff)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


# --- HEAT Auth ---------------------------------------------------------------------------------


class AuthenticationFailed(Exception):
    """Bad credentials. Deliberately says nothing about which part was wrong."""


class LoginThrottled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str | None
    expires_in: int


# Failed password sign-ins are counted per user name and per client address, in one place for
# HEAT Auth (``POST /auth/login``), the sign-in page and the admin's sign-in page.


def _failure_counters(username: str, client_ip: str) -> list[tuple[str, str, int]]:
    """(scope, identity, limit) of each counter a failed sign-in adds to."""
    user_identity = hashlib.sha256(username.lower().encode()).hexdigest()[:32]  # any text: a safe key
    return [
        ("login:user", user_identity, settings.HEAT_AUTH_MAX_FAILURES_PER_USER),
        ("login:ip", client_ip, settings.HEAT_AUTH_MAX_FAILURES_PER_IP),
    ]


def password_authenticate(*, request: Any, username: str, password: str, client_ip: str) -> User:
    """The active user that ``username`` and ``password`` name. Raises LoginThrottled, before
    checking the password, when the user name or the address has used up its failures in the
    current window (``HEAT_AUTH_*``), and AuthenticationFailed (counted) when they are wrong."""
    window = settings.HEAT_AUTH_FAILURE_WINDOW
    counters = _failure_counters(username, client_ip)
    # Both counters in one read (one round trip to Redis).
    counts = failures_read(*((scope, identity) for scope, identity, _limit in counters))
    for (_scope, _identity, limit), (count, left) in zip(counters, counts, strict=True):
        if 0 < limit <= count:
            raise LoginThrottled(retry_after=left)
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        for scope, identity, _limit in counters:
            failure_record(scope, identity, window=window)
        raise AuthenticationFailed
    scope, identity, _limit = counters[0]
    if counts[0][0]:  # the user name had failures: forget them (none: nothing to clear, no round trip)
        failures_clear(scope, identity)
    return user


def tokens_issue(*, user: User, remember_me: bool) -> IssuedTokens:
    """A fresh access token, and a refresh token when the client asked to be remembered."""
    lifetime = settings.HEAT_ACCESS_TOKEN_LIFETIME
    _access, access_value = credential_issue(AccessToken, user=user, expires_at=timezone.now() + lifetime)
    refresh_value = None
    if remember_me:
        _refresh, refresh_value = credential_issue(
            RefreshToken, user=user, expires_at=timezone.now() + settings.HEAT_REFRESH_TOKEN_LIFETIME
        )
    return IssuedTokens(access_value, refresh_value, int(lifetime.total_seconds()))


@transaction.atomic
def login(*, username: str, password: str, remember_me: bool, client_ip: str) -> IssuedTokens:
    """HEAT Auth sign-in. Failures are counted per user name and per client address."""
    user = password_authenticate(request=None, username=username, password=password, client_ip=client_ip)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return tokens_issue(user=user, remember_me=remember_me)


@transaction.atomic
def tokens_refresh(*, refresh_token: str, client_ip: str) -> IssuedTokens:
    """Exchange a refresh token for a new pair; the old one is revoked (rotation). Raises
    CredentialThrottled when ``client_ip`` presented too many invalid refresh tokens."""
    try:
        current = credential_authenticate(
            RefreshToken.objects.select_for_update().select_related("user"),
            refresh_token,
            client_address=client_ip,
        )
    except InvalidCredential as error:
        raise AuthenticationFailed from error
    if not current.user.is_active:
        raise AuthenticationFailed
    credential_revoke(current)
    return tokens_issue(user=current.user, remember_me=True)


def access_token_revoke(*, token: AccessToken) -> None:
    credential_revoke(token)


@transaction.atomic
def offline_token_create(*, user: User, name: str) -> tuple[AccessToken, str]:
    """A long-lived access token for unattended clients; its value is returned once."""
    name = name.strip()
    if not name:
        raise ValueError("An offline token needs a name.")
    return credential_issue(AccessToken, user=user, name=name, is_offline=True)
