"""Exceptions of the HEAT client. Every one subclasses :class:`HeatClientError`, and its message
says what went wrong and what to try next."""

from __future__ import annotations

from typing import Any

import httpx


class HeatClientError(Exception):
    """Base of every error the HEAT client raises."""


class HeatClientConfigurationException(HeatClientError):
    """The client's options are unusable: no base URL, or neither a token nor a user name and
    password."""


class HeatConnectionException(HeatClientError):
    """HEAT could not be reached, or its health check did not answer OK."""


class HeatAuthenticationException(HeatClientError):
    """HEAT Auth or the v2 API refused the credentials (invalid, expired or revoked token; wrong
    user name or password; sign-in throttled)."""

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


class HeatApiException(HeatClientError):
    """The v2 API answered an operation with an error status.

    ``operation`` is the operation's name as HEAT.Common spells it (``"CreateSession"``),
    ``status_code`` the HTTP status and ``response_body`` the body as text.
    """

    def __init__(
        self,
        operation: str,
        status_code: int,
        response_body: str | None,
        server_message: str | None = None,
    ):
        self.operation = operation
        self.status_code = status_code
        self.response_body = response_body
        self.server_message = server_message
        detail = f": {server_message}" if server_message else ""
        super().__init__(f"{operation} failed ({status_code}){detail}")

    @classmethod
    def from_response(cls, operation: str, response: httpx.Response) -> HeatApiException:
        """The exception for an error answer, with the server's ``{"status": "error", "message"}``
        (and the offending fields, when it names them) as its message."""
        body = response.text
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("message"):
            message = str(data["message"])
            if data.get("errors"):
                message = f"{message} ({_describe_errors(data['errors'])})"
        else:
            message = body.strip()[:200] or response.reason_phrase
        return cls(operation, response.status_code, body, message)


def _describe_errors(errors: Any) -> str:
    """The v2 API's ``[{"field": "name", "message": "This field is required."}]`` (or a DRF-style
    ``{"name": ["..."]}``) as ``name: This field is required.``"""
    if isinstance(errors, dict):
        return "; ".join(f"{field}: {_describe_errors(detail)}" for field, detail in errors.items())
    if isinstance(errors, list):
        parts = []
        for item in errors:
            if isinstance(item, dict) and "message" in item:
                parts.append(
                    f"{item['field']}: {item['message']}" if item.get("field") else str(item["message"])
                )
            else:
                parts.append(_describe_errors(item))
        return "; ".join(parts)
    return str(errors)
