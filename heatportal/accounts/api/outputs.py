"""HEAT Auth's response bodies."""

from __future__ import annotations

from typing import Any

from heatportal.accounts.services import IssuedTokens


def tokens(issued: IssuedTokens) -> dict[str, Any]:
    """The token pair; ``refreshToken`` only when the client asked to be remembered."""
    body: dict[str, Any] = {"accessToken": issued.access_token}
    if issued.refresh_token is not None:
        body["refreshToken"] = issued.refresh_token
    body["tokenType"] = "Bearer"
    body["expiresIn"] = issued.expires_in
    return body
