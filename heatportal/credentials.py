"""One module for every kind of secret the portal hands out.

Bearer tokens, refresh tokens, site API keys, device tokens and crowd keys all look alike:
``<type prefix><lookup id><separator><secret>``. The lookup id finds the row; only a SHA-256
hash of the secret is stored, and the full value is returned once, by :func:`credential_issue`.
Secrets are long random strings, so a fast hash is safe here (no password stretching needed),
and verification compares hashes in constant time. An unknown id, a wrong secret, an expired
or a revoked credential all fail with the same :class:`InvalidCredential`.

A concrete credential is a model that inherits :class:`Credential` and names its
:class:`CredentialKind` (or kinds) in ``KINDS``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from heatportal.audit import audit_record_update
from heatportal.ratelimit import failure_record, failures_retry_after

ALPHANUMERIC = string.ascii_letters + string.digits
LOWER_HEX = "0123456789abcdef"


class InvalidCredential(Exception):
    """The presented value is not a usable credential (whatever the reason)."""


class CredentialThrottled(Exception):
    """The client's address presented too many invalid credentials of this kind lately."""

    def __init__(self, retry_after: int):
        super().__init__(
            f"Too many failed authentications from your address: retry after {retry_after} seconds."
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class CredentialKind:
    """The textual shape of one kind of credential."""

    name: str
    prefix: str
    id_length: int
    separator: str
    secret_length: int
    alphabet: str = ALPHANUMERIC

    @property
    def pattern(self) -> re.Pattern[str]:
        chars = re.escape(self.alphabet) if self.alphabet != ALPHANUMERIC else "A-Za-z0-9"
        return re.compile(
            rf"{re.escape(self.prefix)}(?P<id>[{chars}]{{{self.id_length}}})"
            rf"{re.escape(self.separator)}(?P<secret>[{chars}]{{{self.secret_length}}})"
        )

    def generate(self) -> tuple[str, str]:
        """A new random (lookup id, secret) pair."""
        return _random(self.alphabet, self.id_length), _random(self.alphabet, self.secret_length)

    def format(self, lookup_id: str, secret: str) -> str:
        return f"{self.prefix}{lookup_id}{self.separator}{secret}"

    def parse(self, value: str) -> tuple[str, str] | None:
        match = self.pattern.fullmatch(value)
        return (match["id"], match["secret"]) if match else None

    def mask(self, lookup_id: str) -> str:
        """What the portal shows of a credential: the public part only."""
        return f"{self.prefix}{lookup_id}{self.separator}…"


def _random(alphabet: str, length: int) -> str:
    """``length`` characters drawn uniformly from ``alphabet`` (at most 256 of them) with the
    OS's CSPRNG, as ``secrets.choice`` per character would, from one ``token_bytes`` call per
    batch rather than one per character: a byte picks ``alphabet[byte % size]``, and bytes at
    or above the largest multiple of ``size`` are dropped, so that every character is equally
    likely (no modulo bias)."""
    size = len(alphabet)
    usable = 256 - 256 % size
    drawn: list[str] = []
    while len(drawn) < length:
        drawn += [alphabet[byte % size] for byte in secrets.token_bytes(length) if byte < usable]
    return "".join(drawn[:length])


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Compared against when the lookup id is unknown, so that both failures take the same time.
_DUMMY_HASH = hash_secret("no such credential")


class Credential(models.Model):
    """Abstract base of every stored credential: lookup id, secret hash and life cycle."""

    KINDS: ClassVar[tuple[CredentialKind, ...]]

    kind = models.CharField(max_length=32, editable=False)
    lookup_id = models.CharField(max_length=32, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @classmethod
    def kind_named(cls, name: str) -> CredentialKind:
        return next(kind for kind in cls.KINDS if kind.name == name)

    @property
    def credential_kind(self) -> CredentialKind:
        return self.kind_named(self.kind)

    @property
    def masked(self) -> str:
        return self.credential_kind.mask(self.lookup_id)

    def is_active(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)

    @classmethod
    def active_q(cls, at: datetime | None = None) -> Q:
        """Filter for credentials that are neither revoked nor expired."""
        at = at or timezone.now()
        return Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=at))


CredentialT = TypeVar("CredentialT", bound=Credential)


def credential_issue(
    model: type[CredentialT],
    *,
    kind: CredentialKind | None = None,
    value: str | None = None,
    **fields: Any,
) -> tuple[CredentialT, str]:
    """Create a credential row and return it with its full value, which is never stored.

    ``kind`` defaults to the model's first kind. ``value`` registers a given full value (for
    example the documented sample key that demo data installs) instead of a random one.
    """
    kind = kind or model.KINDS[0]
    for _attempt in range(5):
        if value is None:
            lookup_id, secret = kind.generate()
        else:
            parsed = kind.parse(value)
            if parsed is None:
                raise ValueError(f"{value[:8]}… is not a valid {kind.name} value")
            lookup_id, secret = parsed
        try:
            with transaction.atomic():
                credential = model._default_manager.create(
                    kind=kind.name, lookup_id=lookup_id, secret_hash=hash_secret(secret), **fields
                )
        except IntegrityError:
            if value is not None or model._default_manager.filter(lookup_id=lookup_id).count() == 0:
                raise
            continue  # a random lookup id collided; draw another
        return credential, kind.format(lookup_id, secret)
    raise RuntimeError(f"could not draw a free lookup id for {kind.name}")


# Credentials verified lately, per process: ``(model label, secret hash) → (valid until, row)``.
# An API client presents the same credential on every request; this spares each request the
# failure-counter check, the lookup query and the hash comparison. Entries live at most
# ``CREDENTIAL_CACHE_SECONDS`` (1 s), so that a revocation, an expiry or a deactivated user
# made in another process takes effect within that; in this process a revocation or any save
# of a credential or user clears the cache at once (:func:`credential_cache_clear`).
_verified: dict[tuple[str, str], tuple[float, Any]] = {}
_VERIFIED_MAX = 10_000


def credential_cache_clear(**_signal_kwargs: Any) -> None:
    _verified.clear()


def credential_authenticate(
    queryset: models.QuerySet[CredentialT],
    value: str,
    *,
    client_address: str | None = None,
    cache: bool = False,
) -> CredentialT:
    """The active credential of ``queryset`` that ``value`` names, or InvalidCredential.

    Records the use in ``last_used_at``, written at most once per
    ``CREDENTIAL_LAST_USED_INTERVAL`` per credential.

    Every API authenticator passes ``client_address``: failures are then counted per address
    and credential model, and an address with ``CREDENTIAL_MAX_FAILURES_PER_ADDRESS`` failures
    in a window of ``CREDENTIAL_FAILURE_WINDOW`` seconds gets CredentialThrottled
    before its value is even looked at (valid credentials from other addresses are unaffected).

    ``cache=True`` (request authenticators of access credentials; never refresh tokens, whose
    use must be seen by every process at once) answers from the per-process cache of
    credentials verified in the last ``CREDENTIAL_CACHE_SECONDS``.
    """
    model = queryset.model
    key = (model._meta.label_lower, hash_secret(value or ""))
    if cache:
        hit = _verified.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
    scope = f"credential:{model._meta.label_lower}"
    if client_address is not None:
        limit = settings.CREDENTIAL_MAX_FAILURES_PER_ADDRESS
        retry_after = failures_retry_after(scope, client_address, limit=limit)
        if retry_after is not None:
            raise CredentialThrottled(retry_after)
    parsed = next((p for kind in model.KINDS if (p := kind.parse(value or ""))), None)
    lookup_id, secret = parsed or ("", "")
    credential = queryset.filter(lookup_id=lookup_id).first() if parsed else None
    stored_hash = credential.secret_hash if credential else _DUMMY_HASH
    matches = hmac.compare_digest(stored_hash, hash_secret(secret))
    now = timezone.now()
    if credential is None or not matches or not credential.is_active(now):
        if client_address is not None and value:
            failure_record(scope, client_address, window=settings.CREDENTIAL_FAILURE_WINDOW)
        raise InvalidCredential
    credential_touch(credential, now=now)
    if cache and settings.CREDENTIAL_CACHE_SECONDS > 0:
        _remember_verified(key, credential, now=now)
    return credential


def _remember_verified(key: tuple[str, str], credential: Credential, *, now: datetime) -> None:
    """Keep ``credential`` in the per-process cache, no longer than it stays valid."""
    lifetime = settings.CREDENTIAL_CACHE_SECONDS
    if credential.expires_at is not None:
        lifetime = min(lifetime, (credential.expires_at - now).total_seconds())
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[key] = (time.monotonic() + lifetime, credential)


def credential_touch(credential: Credential, *, now: datetime) -> None:
    """Set last_used_at unless it was set less than the configured interval ago."""
    stale_before = now - settings.CREDENTIAL_LAST_USED_INTERVAL
    if credential.last_used_at is not None and credential.last_used_at > stale_before:
        return
    type(credential)._default_manager.filter(pk=credential.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before)
    ).update(last_used_at=now)
    credential.last_used_at = now


def credential_revoke(credential: Credential) -> None:
    """Revoke a credential; revoking twice keeps the first revocation time."""
    if credential.revoked_at is not None:
        return
    now = timezone.now()
    type(credential)._default_manager.filter(pk=credential.pk, revoked_at__isnull=True).update(revoked_at=now)
    credential.revoked_at = now
    credential_cache_clear()
    audit_record_update(credential, revoked_at=None)  # update() sends no signal for the history
