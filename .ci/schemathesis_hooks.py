"""schemathesis hooks of the ``.ci/schemathesis`` stage (loaded with ``SCHEMATHESIS_HOOKS``).

The portal resolves a crowd request's ``hook_url`` host when the request is created (the SSRF
guard, docs/crowd_app.md), so every generated host name would be a DNS query leaving this
machine. Host names are replaced by IP literals, which resolve without a query; everything else
in the URL (scheme, port, path, query), and every value that is not a string, stays as generated.
"""

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

import schemathesis

# Refused (loopback, private), refused with a port, and global (accepted, never delivered: the
# stage's worker does not serve the webhooks queue).
LITERALS = ("127.0.0.1", "10.0.0.1", "[::ffff:127.0.0.1]", "93.184.216.34")


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    try:
        socket.inet_aton(host)  # numeric forms the resolver reads without a query (2130706433)
        return True
    except OSError:
        return False


def literal_host(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "not a URL"
    if not host or _is_literal(host):
        return url
    literal = LITERALS[sum(map(ord, host)) % len(LITERALS)]
    netloc = parts.netloc.rpartition("@")[2]
    port = netloc.rpartition(":")[2] if netloc.count(":") == 1 else ""
    return urlunsplit(parts._replace(netloc=f"{literal}:{port}" if port else literal))


@schemathesis.hook
def map_body(context, body):
    if isinstance(body, dict) and isinstance(body.get("hook_url"), str):
        return {**body, "hook_url": literal_host(body["hook_url"])}
    return body
