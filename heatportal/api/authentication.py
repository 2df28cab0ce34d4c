"""Authenticators shared by several API families (DRF ``BaseAuthentication`` classes, so that
the schema documents them, run by :class:`heatportal.api.views.ApiView` on a plain request).

Each credential kind has one authenticator: HEAT Auth bearer tokens
(:class:`heatportal.accounts.authentication.BearerTokenAuthentication`), the portal's session
cookie (here), site API keys and device tokens (``sites_app.api.authentication``), crowd keys
(``crowd_app.api.authentication``). All look credentials up through
:func:`heatportal.credentials.credential_authenticate`.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib import auth
from django.http.request import HttpHeaders
from rest_framework.authentication import SessionAuthentication


def request_header(request, name: str) -> str:
    """The request header ``name`` (``"Authorization"``), "" when absent. Read from
    ``request.META``: ``request.headers`` (DRF's ``get_authorization_header``) copies every
    header of the request first, on every call."""
    return request.META.get(HttpHeaders.to_wsgi_name(name), "")


class SessionCookieAuthentication(SessionAuthentication):
    """The portal's signed-in session, for the pages that call an API (the runner's progress
    bars). API paths skip the session middleware, so the session is read here, only when its
    cookie is sent; unsafe methods must carry the CSRF token, as DRF enforces it."""

    def authenticate(self, request):
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if not key:
            return None
        if not hasattr(request, "session"):
            request.session = import_module(settings.SESSION_ENGINE).SessionStore(key)
        user = auth.get_user(request)
        if not user.is_active:
            return None
        self.enforce_csrf(request)
        return user, None
