"""Webhook signing secrets, Standard Webhooks signatures, the SSRF guard (CONTRACT §5) and the
HTTP delivery of one attempt (``send``).

The signing secret must be recovered to sign, so it cannot be hashed: it is stored encrypted
with Fernet under a key derived from SECRET_KEY. Rotating SECRET_KEY makes the stored secrets
unreadable; rotate the webhook secrets afterwards.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx
from cryptography.fernet import Fernet
from django.conf import settings
from standardwebhooks import Webhook

from heatportal.crypto import derived_fernet

SECRET_PREFIX = "whsec_"  # noqa: S105 (the Standard Webhooks prefix, not a secret)


_PURPOSE = b"heat-portal/crowd-webhook-secret/"


def _fernet() -> Fernet:
    return derived_fernet(_PURPOSE)


def _fernet_for(secret_key: str) -> Fernet:
    return derived_fernet(_PURPOSE, secret_key)


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    """The secret of an encrypted ``token``. Every delivery signs with its account's secret:
    decrypted once per process and key (a rotated secret is another token)."""
    return _decrypted(settings.SECRET_KEY, token)


@functools.lru_cache(maxsize=1024)
def _decrypted(secret_key: str, token: str) -> str:
    return _fernet_for(secret_key).decrypt(token.encode()).decode()


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: ``v1,`` + base64(HMAC-SHA256), signed by the
    standardwebhooks package (receivers verify with its ``Webhook(secret).verify``)."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return Webhook(secret).sign(message_id, moment, body.decode())


class UnsafeURL(Exception):
    """A hook URL that may not be called; the message starts with ``hook_url: ``."""


# Addresses a webhook may never reach (IANA special-purpose registries, checked explicitly so
# that the answer does not depend on the Python version's ``is_global`` table). The 6to4 and
# NAT64 prefixes are not here: they are refused when the IPv4 address they embed is.
_REFUSED_NETWORKS: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(network), label)
    for network, label in (
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared (CGNAT, cloud metadata)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible (deprecated)"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/23", "IETF protocol assignments (Teredo included)"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing"),
        ("fc00::/7", "unique local (cloud metadata)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"),
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def address_refusal(ip: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why ``ip`` may not be the target of a webhook (a short description of its range), or
    None when it is globally routable. ``allow_loopback`` lets 127.0.0.0/8 and ::1 through,
    nothing else (``WEBHOOK_ALLOW_PRIVATE``, for tests)."""
    ip = _unmapped(ip)
    if allow_loopback and ip.is_loopback:
        return None
    for network, label in _REFUSED_NETWORKS:
        if ip.version == network.version and ip in network:
            return label
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else ip.sixtofour
        if embedded is not None:
            return _embedded_refusal(ip, embedded)
        if ip not in _GLOBAL_UNICAST_V6:
            return "reserved"
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return "not globally routable"
    return None


def _unmapped(ip: IPAddress) -> IPAddress:
    """``ip`` as a socket would reach it: ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket, and
    an IPv6 address without its zone id."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        return ipaddress.IPv6Address(ip.compressed.split("%")[0])
    return ip


def _embedded_refusal(ip: ipaddress.IPv6Address, embedded: ipaddress.IPv4Address) -> str | None:
    """A NAT64 or 6to4 address is refused when the IPv4 address it embeds is."""
    inner = address_refusal(embedded)
    kind = "NAT64" if ip in _NAT64 else "6to4"
    return f"{kind} address of {embedded}, which is {inner}" if inner else None


@dataclass(frozen=True)
class _Checked:
    parts: SplitResult
    host: str
    port: int | None
    addresses: list[str]


def _resolve_checked(url: str) -> _Checked:
    """Resolve the URL's host the way the HTTP client would (``getaddrinfo``: numeric forms
    such as ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` and ``127.1`` are read as the C
    resolver reads them, names through DNS) and refuse it unless every address is global."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeURL(f"hook_url: must be an http(s) URL ({error})") from error
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise UnsafeURL("hook_url: must be an http(s) URL")
    try:
        infos = socket.getaddrinfo(
            host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeURL(f"hook_url: cannot resolve {host!r} ({error})") from error
    addresses = [str(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not addresses:
        raise UnsafeURL(f"hook_url: cannot resolve {host!r}")
    allow_loopback = settings.WEBHOOK_ALLOW_PRIVATE
    for address in addresses:
        refusal = address_refusal(ipaddress.ip_address(address), allow_loopback=allow_loopback)
        if refusal:
            shown = host if host == address else f"{host} ({address})"
            raise UnsafeURL(f"hook_url: {shown} is not a globally routable address: {refusal}")
    return _Checked(parts, host, port, addresses)


def hook_url_check(url: str) -> None:
    """At request creation: the same check as at delivery, so that a hook URL that could
    never be delivered is a 400 now rather than a failed delivery later. A name that does not
    resolve is refused too (it could not be delivered either)."""
    _resolve_checked(url)


@dataclass(frozen=True)
class Target:
    """Where to connect for a hook URL: the checked address, so that a second DNS answer
    (rebinding) cannot send the request elsewhere. ``host`` and ``sni_hostname`` keep the
    Host header and TLS certificate check on the URL's own name."""

    url: str
    host_header: str | None = None
    sni_hostname: str | None = None


def resolve_safe(url: str) -> Target:
    """At delivery: every address the host resolves to must be global; connect to the first."""
    checked = _resolve_checked(url)
    parts, host, port = checked.parts, checked.host, checked.port
    address = checked.addresses[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = literal + (f":{port}" if port else "")
    host_header = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    return Target(
        url=urlunsplit(parts._replace(netloc=netloc)),
        host_header=host_header,
        sni_hostname=host if parts.scheme == "https" else None,
    )


def retry_delay_max(attempt: int) -> int:
    """The longest wait before the attempt after failed ``attempt``: Celery's ``retry_backoff``
    (``int(max(1, WEBHOOK_BACKOFF_BASE))`` * 2 ** (attempt - 1) seconds, at most
    ``WEBHOOK_BACKOFF_MAX``); its ``retry_jitter`` picks a wait between 0 and that."""
    factor = int(max(1.0, settings.WEBHOOK_BACKOFF_BASE))
    return min(int(settings.WEBHOOK_BACKOFF_MAX), factor * 2 ** (attempt - 1))


class DeliveryRetry(Exception):
    """An attempt that failed in a way worth retrying (timeout, connection error, 5xx, 408,
    429), raised once it is recorded: the delivery task's ``autoretry_for``."""


@dataclass(frozen=True)
class Sent:
    """How one attempt ended: ``error`` is empty on a 2xx; ``retry`` says whether a later
    attempt may succeed."""

    status_code: int | None = None
    error: str = ""
    retry: bool = False
    duration_ms: int = 0


# One HTTP client per worker process: deliveries to the same receiver reuse connections.
_client: httpx.Client | None = None


def _http() -> httpx.Client:
    global _client
    if _client is None:
        _client = httpx.Client(timeout=settings.WEBHOOK_TIMEOUT, follow_redirects=False)
    return _client


def send(*, url: str, secret: str, message_id: str, body: bytes) -> Sent:
    """POST ``body`` to ``url`` signed with ``secret`` (Standard Webhooks headers), connecting
    only to the address checked by ``resolve_safe``. A refused URL is not sent and not retried."""
    started = time.monotonic()
    status_code, error, retry = None, "", False
    try:
        target = resolve_safe(url)
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "HEAT-Portal-Webhooks/1.0",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret=secret, message_id=message_id, timestamp=timestamp, body=body),
        }
        if target.host_header:
            headers["host"] = target.host_header
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else None
        reply = _http().post(target.url, content=body, headers=headers, extensions=extensions)
        status_code = reply.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
            retry = status_code >= 500 or status_code in (408, 429)
    except UnsafeURL as refused:
        error = str(refused)
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"
        retry = True
    return Sent(status_code, error, retry, int((time.monotonic() - started) * 1000))
