"""Webhook signing secrets, Standard Webhooks signatures and the SSRF guard (CONTRACT §5).

The signing secret must be recovered to sign, so it cannot be hashed: it is stored encrypted
with Fernet under a key derived from SECRET_KEY. Rotating SECRET_KEY makes the stored secrets
unreadable; rotate the webhook secrets afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet
from django.conf import settings

SECRET_PREFIX = "whsec_"  # noqa: S105 (the Standard Webhooks prefix, not a secret)


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"heat-portal/crowd-webhook-secret/" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value (Standard Webhooks, v1 = HMAC-SHA256)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify(*, secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: recompute and compare (used by tests and the docs' example)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    expected = sign(
        secret=secret,
        message_id=lowered["webhook-id"],
        timestamp=int(lowered["webhook-timestamp"]),
        body=body,
    )
    return any(hmac.compare_digest(expected, candidate) for candidate in lowered["webhook-signature"].split())


class UnsafeURL(Exception):
    pass


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_literal_host(url: str) -> None:
    """At request creation: refuse an IP literal or ``localhost`` that is private."""
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return
    host = (urlsplit(url).hostname or "").strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        raise UnsafeURL("hook_url: private, loopback and link-local addresses are not allowed")
    try:
        private = _is_private(host)
    except ValueError:
        return  # a name; resolved and checked at delivery time
    if private:
        raise UnsafeURL("hook_url: private, loopback and link-local addresses are not allowed")


@dataclass(frozen=True)
class Target:
    """Where to connect for a hook URL: the checked address, so that a second DNS answer
    (rebinding) cannot send the request elsewhere. ``host`` and ``sni_hostname`` keep the
    Host header and TLS certificate check on the URL's own name."""

    url: str
    host_header: str | None = None
    sni_hostname: str | None = None


def resolve_safe(url: str) -> Target:
    """At delivery: every address the host resolves to must be public; connect to the first."""
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return Target(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as error:
        raise UnsafeURL(f"cannot resolve {host}: {error}") from error
    for info in infos:
        if _is_private(info[4][0]):
            raise UnsafeURL(f"{host} resolves to a private address ({info[4][0]}); refused")
    address = infos[0][4][0]
    literal = f"[{address}]" if ":" in address else address
    netloc = literal + (f":{parts.port}" if parts.port else "")
    host_header = host + (f":{parts.port}" if parts.port else "")
    return Target(
        url=urlunsplit(parts._replace(netloc=netloc)),
        host_header=host_header,
        sni_hostname=host if parts.scheme == "https" else None,
    )
