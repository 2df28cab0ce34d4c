"""Error bodies, one shape per API family, as the contract gives them.

API views name their family with ``error_family`` (see :class:`heatportal.api.views.ApiView`)
and every failure is mapped by :func:`error_for`; Django's own
404/500 handlers (``heatportal.views``) find the family from the request path, so that an
unknown URL or a crash under ``/api/v2/`` still answers in the v2 shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpResponse
from django.http.multipartparser import MultiPartParserError
from pydantic import ValidationError as PydanticValidationError
from rest_framework import exceptions

from heatportal.api.input import BadInput
from heatportal.api.parsers import InvalidBody
from heatportal.api.rendering import render
from heatportal.services import ServiceError

GENERIC_MESSAGES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Request entity too large",
    415: "Unsupported media type",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable. Please try again later.",
}

SITES_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_server_error",
    503: "service_unavailable",
}


@dataclass(frozen=True)
class ApiError:
    """What went wrong, before it is put in a family's shape."""

    status: int
    message: str
    details: list[Any] | None = None
    code: str | None = None


def _heat(error: ApiError) -> dict:
    body: dict[str, Any] = {"status": "error", "message": error.message}
    if error.details:
        body["errors"] = error.details
    return body


def _sites(error: ApiError) -> dict:
    body: dict[str, Any] = {
        "error": error.code or SITES_CODES.get(error.status, "error"),
        "message": error.message,
    }
    if error.details:
        body["details"] = error.details
    return body


def _scenarios(error: ApiError) -> dict:
    if error.status == 422 and error.details:
        return {"detail": error.details}
    return {"detail": error.message}


def _crowd(error: ApiError) -> dict:
    return {"status": "error", "code": error.status, "message": error.message}


def dotted(loc: tuple[Any, ...]) -> str:
    """A field's path in messages: ``items.0.name``."""
    return ".".join(str(part) for part in loc)


def bracketed(loc: tuple[Any, ...]) -> str:
    """A field's path in messages, list items in brackets: ``items[0].name``."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


@dataclass(frozen=True)
class ErrorFamily:
    name: str
    render: Callable[[ApiError], dict]
    field_path: Callable[[tuple[Any, ...]], str] = dotted


HEAT = ErrorFamily("heat", _heat)
SITES = ErrorFamily("sites", _sites)
SCENARIOS = ErrorFamily("scenarios", _scenarios)
CROWD = ErrorFamily("crowd", _crowd, field_path=bracketed)


def family_for_path(path: str) -> ErrorFamily | None:
    """The API family that serves ``path``, or None for portal pages."""
    scenarios_prefix = "/" + settings.SCENARIOS_API_PREFIX.strip("/") + "/"
    prefixes = [
        ("/api/v2/", HEAT),
        ("/auth/", HEAT),
        ("/api/v1/public/", SITES),
        ("/api/v0/public/", SITES),
        ("/api/v1/gateway/", SITES),
        (scenarios_prefix, SCENARIOS),
        ("/v1/", CROWD),
    ]
    for prefix, family in sorted(prefixes, key=lambda item: -len(item[0])):
        if path.startswith(prefix):
            return family
    return None


def error_response(family: ErrorFamily, error: ApiError, **headers: str) -> HttpResponse:
    return render(family.render(error), status=error.status, headers=headers)


def _flatten(detail: Any, path: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Field path and message of each message in a DRF validation error detail."""
    if isinstance(detail, dict):
        return [item for key, value in detail.items() for item in _flatten(value, (*path, str(key)))]
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [(".".join(path), str(item)) for item in detail]
        return [item for index, value in enumerate(detail) for item in _flatten(value, (*path, str(index)))]
    return [(".".join(path), str(detail))]


class RequestError(ServiceError):
    """An error a view raises with a chosen status and message, and optionally the offending
    fields (a DRF serializer's ``errors``), listed as ``{"field", "message"}``."""

    def __init__(self, status: int, message: str, field_errors: Any = None):
        details = [{"field": f, "message": m} for f, m in _flatten(field_errors)] if field_errors else None
        super().__init__(message, status=status, details=details)


def api_error_from_exception(exc: exceptions.APIException) -> ApiError:
    if isinstance(exc, exceptions.ValidationError):
        messages = _flatten(exc.detail)
        first_field, first_message = messages[0] if messages else ("", "Invalid request")
        message = (
            first_message if first_field in ("", "non_field_errors") else f"{first_field}: {first_message}"
        )
        details = [{"field": field, "message": text} for field, text in messages]
        return ApiError(status=exc.status_code, message=message, details=details)
    detail = exc.detail
    if isinstance(detail, (dict, list)) or str(detail) == str(exc.default_detail):
        # DRF's stock wording ("Authentication credentials were not provided.") is not any
        # family's; the documents use the short forms ("Unauthorized", "Forbidden").
        message = GENERIC_MESSAGES.get(exc.status_code, str(exc.default_detail))
    else:
        message = str(detail)
    return ApiError(
        status=exc.status_code,
        message=message,
        details=getattr(exc, "details", None),
        code=getattr(exc, "error_code", None),
    )


def _validation_error(family: ErrorFamily, items: list[dict], message: str) -> ApiError:
    """Validation errors given as Pydantic items (``type``, ``loc``, ``msg``, ``input``): the
    runner answers them as they are (422, as FastAPI does), the others as a 400 that names the
    first field, with ``{"field", "message"}`` per item."""
    if family is SCENARIOS:
        return ApiError(status=422, message=message, details=items)
    fields = [
        {
            "field": family.field_path(
                tuple(item["loc"][1:] if item["loc"][:1] == ["body"] else item["loc"])
            ),
            "message": item["msg"],
        }
        for item in items
    ]
    first = fields[0] if fields else {"field": "", "message": message}
    text = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return ApiError(status=400, message=text, details=[f for f in fields if f["field"]] or None)


def _bad_body(family: ErrorFamily, exc: InvalidBody) -> ApiError:
    bad = exc.bad_input
    if family is not SCENARIOS:
        return api_error_from_exception(exc)
    item: dict[str, Any]
    if bad.kind == "json_invalid":
        item = {"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error", "input": str(exc.detail)}
    else:  # the value is not echoed: it is the text that could not be stored
        item = {"type": bad.kind, "loc": ["body", *bad.loc], "msg": bad.message, "input": None}
    return ApiError(status=422, message=str(bad), details=[item])


def error_for(exc: Exception, family: ErrorFamily) -> tuple[ApiError, dict[str, str]]:
    """The one mapping of what a request can fail with to ``(error, headers)``.

    Services raise :class:`ServiceError` (status, message, details); input models raise
    Pydantic's ValidationError; bodies and columns :class:`BadInput`; authenticators,
    permissions and throttles DRF's exceptions. Anything else is a crash and is raised again,
    for Django's 500 handler (which answers in the family's shape too).
    """
    error = _input_error(exc, family) or _refusal_error(exc)
    if error is not None:
        return error, {}
    if not isinstance(exc, exceptions.APIException):
        raise exc
    headers: dict[str, str] = {}
    auth_header, wait = getattr(exc, "auth_header", None), getattr(exc, "wait", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    if wait is not None:
        headers["Retry-After"] = str(int(wait))
    return api_error_from_exception(exc), headers


def _input_error(exc: Exception, family: ErrorFamily) -> ApiError | None:
    """The error of a service's refusal or of input that could not be read; None for others."""
    if isinstance(exc, ServiceError):
        return ApiError(status=exc.status, message=exc.message, details=exc.details or None)
    if isinstance(exc, PydanticValidationError):
        items = orjson.loads(exc.json(include_url=False))
        for item in items:
            item["loc"] = ["body", *item["loc"]]
        return _validation_error(family, items, "Invalid request body")
    if isinstance(exc, InvalidBody):
        return _bad_body(family, exc)
    if isinstance(exc, BadInput):  # a value its column cannot hold, found when saving
        return _bad_value(family, exc)
    if isinstance(exc, MultiPartParserError):  # a form body Django cannot read
        return _bad_multipart(family, exc)
    return None


def _bad_value(family: ErrorFamily, exc: BadInput) -> ApiError:
    if family is SCENARIOS:
        item = {"type": exc.kind, "loc": ["body", *exc.loc], "msg": exc.message, "input": None}
        return ApiError(status=422, message=str(exc), details=[item])
    details = [{"field": exc.field, "message": exc.message}] if exc.loc else None
    return ApiError(status=400, message=str(exc), details=details)


def _bad_multipart(family: ErrorFamily, exc: MultiPartParserError) -> ApiError:
    message = f"Invalid multipart body: {exc}"
    if family is SCENARIOS:
        item = {"type": "value_error", "loc": ["body"], "msg": message, "input": None}
        return ApiError(status=422, message=message, details=[item])
    return ApiError(status=400, message=message)


def _refusal_error(exc: Exception) -> ApiError | None:
    """Django's own refusals (too big, not found, forbidden) in the generic words."""
    if isinstance(exc, RequestDataTooBig):
        return ApiError(status=413, message=GENERIC_MESSAGES[413])
    if isinstance(exc, Http404):
        return ApiError(status=404, message=GENERIC_MESSAGES[404])
    if isinstance(exc, PermissionDenied):
        return ApiError(status=403, message=GENERIC_MESSAGES[403])
    return None


__all__ = [
    "CROWD",
    "HEAT",
    "SCENARIOS",
    "SITES",
    "ApiError",
    "RequestError",
    "error_for",
    "error_response",
    "family_for_path",
]
