"""A secret shown once, on the page a creating form redirects to.

A form that creates a credential (an API key, a device token) redirects after its POST, so that
reloading the page creates nothing. The new secret must reach the page it redirects to, yet the
portal stores no secret in plaintext, not even in a session: it travels in a short-lived
cookie, encrypted and authenticated with a key derived from ``SECRET_KEY`` (Fernet), bound to
the object it belongs to, and the page that shows it deletes the cookie in the same response.
A reload then shows the masked value only.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from heatportal.crypto import derived_fernet

COOKIE = "heat_new_secret"
LIFETIME = 120  # seconds: the redirect is followed at once


def _fernet() -> Fernet:
    return derived_fernet(b"heatportal.oneshot:")


def redirect_with_secret(to: str, *, subject: str, secret: str) -> HttpResponse:
    """A 303 redirect to ``to`` that carries ``secret`` for ``subject`` (``"site-key:12"``)."""
    response = redirect(to)
    response.status_code = 303  # See Other: the answer to a POST, fetched with GET
    token = _fernet().encrypt(json.dumps({"subject": subject, "secret": secret}).encode()).decode()
    response.set_cookie(
        COOKIE,
        token,
        max_age=LIFETIME,
        httponly=True,
        samesite="Strict",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def take_secret(request: HttpRequest, subject: str) -> str | None:
    """The secret carried for ``subject``, if any (then call :func:`forget_secret`)."""
    token = request.COOKIES.get(COOKIE)
    if not token:
        return None
    try:
        found = json.loads(_fernet().decrypt(token.encode(), ttl=LIFETIME))
    except (InvalidToken, ValueError):
        return None
    return found.get("secret") if found.get("subject") == subject else None


def forget_secret(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Delete the cookie (if the request had one): the secret is shown this once."""
    if COOKIE in request.COOKIES:
        response.delete_cookie(COOKIE, samesite="Strict")
    return response
