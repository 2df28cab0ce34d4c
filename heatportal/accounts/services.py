from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from heatportal.accounts.models import AccessToken, RefreshToken, User
from heatportal.credentials import (
    InvalidCredential,
    credential_authenticate,
    credential_issue,
    credential_revoke,
)


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


def _failure_keys(username: str, client_ip: str) -> list[tuple[str, int]]:
    return [
        (f"heat-auth:fail:user:{username.lower()}", settings.HEAT_AUTH_MAX_FAILURES_PER_USER),
        (f"heat-auth:fail:ip:{client_ip}", settings.HEAT_AUTH_MAX_FAILURES_PER_IP),
    ]


def _check_login_throttle(username: str, client_ip: str) -> None:
    window = settings.HEAT_AUTH_FAILURE_WINDOW
    for key, limit in _failure_keys(username, client_ip):
        if cache.get(key, 0) >= limit:
            raise LoginThrottled(retry_after=window)


def _record_login_failure(username: str, client_ip: str) -> None:
    window = settings.HEAT_AUTH_FAILURE_WINDOW
    for key, _limit in _failure_keys(username, client_ip):
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)


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
    _check_login_throttle(username, client_ip)
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        _record_login_failure(username, client_ip)
        raise AuthenticationFailed
    cache.delete(_failure_keys(username, client_ip)[0][0])
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return tokens_issue(user=user, remember_me=remember_me)


@transaction.atomic
def tokens_refresh(*, refresh_token: str) -> IssuedTokens:
    """Exchange a refresh token for a new pair; the old one is revoked (rotation)."""
    try:
        current = credential_authenticate(
            RefreshToken.objects.select_for_update().select_related("user"), refresh_token
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
