"""Keys derived from ``SECRET_KEY``, one per purpose, for values the portal must read back
(Fernet: encrypted and authenticated). Rotating ``SECRET_KEY`` makes what they encrypted
unreadable; each user documents what that means for its values."""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet
from django.conf import settings


def derived_fernet(purpose: bytes, secret_key: str | None = None) -> Fernet:
    """The Fernet of ``purpose`` (a prefix naming it) under ``secret_key`` (default: the
    current ``SECRET_KEY``): SHA-256 of purpose + key, so that no two purposes share a key."""
    return _fernet(purpose, secret_key if secret_key is not None else settings.SECRET_KEY)


@functools.lru_cache(maxsize=8)
def _fernet(purpose: bytes, secret_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(purpose + secret_key.encode()).digest()))
