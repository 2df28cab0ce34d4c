"""How the client obtains the bearer token it sends: a fixed token, or HEAT Auth sign-in with
a user name and password (access and refresh tokens cached and renewed)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Protocol

import httpx

from heat_client.config import HeatClientOptions
from heat_client.exceptions import HeatApiException, HeatAuthenticationException, HeatConnectionException

logger = logging.getLogger("heat_client")

# Renew a password sign-in's access token this long before the server says it expires, so that
# a request (above all an upload from a stream, which cannot be retried) does not start with a
# token about to lapse.
EXPIRY_MARGIN_SECONDS = 60.0


class Credentials(Protocol):
    def access_token(self) -> str:
        """The token to send now (signing in first if needed)."""
        ...

    def renew(self, rejected_token: str) -> bool:
        """Replace ``rejected_token`` after a 401; True if a retry may succeed."""
        ...

    def rejected_message(self, operation: str) -> str: ...


class TokenCredentials:
    """A token given by the caller (e.g. an offline token): sent as is, never renewed."""

    def __init__(self, token: str):
        self._token = token

    def access_token(self) -> str:
        return self._token

    def renew(self, rejected_token: str) -> bool:
        return False

    def rejected_message(self, operation: str) -> str:
        return (
            f"Authentication failed: {operation} was refused (401). The token is invalid, expired or "
            "revoked; obtain a new access token or an offline token."
        )


def describe_transport_error(error: httpx.TransportError) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class PasswordCredentials:
    """Signs in to HEAT Auth with a user name and password, caches the access and refresh
    tokens, and renews them: by refresh when there is a refresh token, else by a new sign-in."""

    def __init__(self, http: httpx.Client, options: HeatClientOptions):
        self._http = http
        self._base_url = options.base_url
        self._username = options.username or ""
        self._password = options.password or ""
        self._remember_me = options.remember_me
        self._lock = threading.Lock()  # one sign-in or refresh at a time, shared by all threads
        self._access: str | None = None
        self._refresh: str | None = None
        self._renew_at = 0.0

    def access_token(self) -> str:
        with self._lock:
            if self._access is None or time.monotonic() >= self._renew_at:
                self._obtain()
            assert self._access is not None
            return self._access

    def renew(self, rejected_token: str) -> bool:
        with self._lock:
            if self._access is not None and self._access != rejected_token:
                return True  # another thread has renewed it meanwhile
            self._access = None
            self._obtain()
            return True

    def rejected_message(self, operation: str) -> str:
        return (
            f"Authentication failed: {operation} was refused (401) although user {self._username!r} "
            "signed in again. Check that the account is active and allowed to use the v2 API."
        )

    def _obtain(self) -> None:
        if self._refresh:
            try:
                self._store(self._post("Refresh", "/auth/refresh", {"refreshToken": self._refresh}))
                logger.debug("HEAT access token refreshed for %s", self._username)
                return
            except HeatAuthenticationException:
                logger.info("HEAT refresh token refused; signing in again as %s", self._username)
                self._refresh = None
        body = {"username": self._username, "password": self._password, "rememberMe": self._remember_me}
        self._store(self._post("Login", "/auth/login", body))
        logger.debug("Signed in to HEAT Auth as %s", self._username)

    def _store(self, tokens: dict[str, Any]) -> None:
        access = tokens.get("accessToken")
        if not access:
            raise HeatAuthenticationException(
                f"Authentication failed: HEAT Auth at {self._base_url} answered without an access token."
            )
        self._access = access
        self._refresh = tokens.get("refreshToken") or None
        expires_in = tokens.get("expiresIn")
        if isinstance(expires_in, int | float) and expires_in > 0:
            lifetime = max(expires_in - EXPIRY_MARGIN_SECONDS, expires_in / 2)
            self._renew_at = time.monotonic() + lifetime
        else:
            self._renew_at = float("inf")

    def _post(self, operation: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._http.post(path, json=body)
        except httpx.TransportError as error:
            raise HeatConnectionException(
                f"HEAT Auth at {self._base_url}{path} is not reachable "
                f"({describe_transport_error(error)}). Check the base URL and your network."
            ) from error
        if response.status_code == 200:
            try:
                data = response.json()
            except ValueError:
                data = None
            if not isinstance(data, dict):
                raise HeatApiException(operation, 200, response.text, "HEAT Auth did not answer JSON")
            return data
        if response.status_code == 401:
            what = (
                f"HEAT Auth rejected the user name or password of {self._username!r}; check them "
                "(HEAT_USERNAME, HEAT_PASSWORD)"
                if operation == "Login"
                else "HEAT Auth rejected the refresh token"
            )
            raise HeatAuthenticationException(f"Authentication failed: {what}.", status_code=401)
        if response.status_code == 429:
            retry_after = response.headers.get("Retry-After", "a few")
            raise HeatAuthenticationException(
                f"Authentication failed: too many failed sign-ins for {self._username!r}; "
                f"HEAT Auth asks to retry after {retry_after} seconds.",
                status_code=429,
            )
        raise HeatApiException.from_response(operation, response)
