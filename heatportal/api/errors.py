"""Error bodies, one shape per API family, as the contract gives them.

DRF views name their family with ``error_family`` (see :class:`FamilyAPIView`); Django's own
404/500 handlers (``heatportal.views``) find the family from the request path, so that an
unknown URL or a crash under ``/api/v2/`` still answers in the v2 shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from heatportal.api.input import BadInput

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


@dataclass(frozen=True)
class ErrorFamily:
    name: str
    render: Callable[[ApiError], dict]


HEAT = ErrorFamily("heat", _heat)
SITES = ErrorFamily("sites", _sites)
SCENARIOS = ErrorFamily("scenarios", _scenarios)
CROWD = ErrorFamily("crowd", _crowd)


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


def error_response(family: ErrorFamily, error: ApiError, **headers: str) -> JsonResponse:
    return JsonResponse(family.render(error), status=error.status, headers=headers)


def _flatten(detail: Any, path: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Field path and message of each message in a DRF validation error detail."""
    if isinstance(detail, dict):
        return [item for key, value in detail.items() for item in _flatten(value, (*path, str(key)))]
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [(".".join(path), str(item)) for item in detail]
        return [item for index, value in enumerate(detail) for item in _flatten(value, (*path, str(index)))]
    return [(".".join(path), str(detail))]


class RequestError(exceptions.APIException):
    """An error with a chosen status and message, and optionally the offending fields."""

    def __init__(self, status: int, message: str, field_errors: Any = None):
        super().__init__(detail=message)
        self.status_code = status
        self.details = (
            [{"field": f, "message": m} for f, m in _flatten(field_errors)] if field_errors else None
        )


def bad_input_exception(error: BadInput) -> RequestError:
    """A value refused by :mod:`heatportal.api.input` (a column it does not fit, say) as a 400."""
    exc = RequestError(400, str(error))
    exc.details = [{"field": error.field, "message": error.message}] if error.loc else None
    return exc


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


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's exception handler: the error in the family shape of the view that raised it."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, BadInput):
        exc = bad_input_exception(exc)
    if not isinstance(exc, exceptions.APIException):
        return None  # a crash: Django's handler500 answers, in the family shape too

    view = context.get("view")
    request = context.get("request")
    family = getattr(view, "error_family", None) or family_for_path(request.path if request else "") or HEAT
    error = api_error_from_exception(exc)
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(int(exc.wait))
    set_rollback()
    return Response(family.render(error), status=error.status, headers=headers)


class FamilyAPIView(APIView):
    """Base of every API view: says which family's error shape it answers with."""

    error_family: ErrorFamily = HEAT

    def get_authenticate_header(self, request):
        # DRF answers 403 instead of 401 when no authenticator declares a header; every family
        # documents 401 for missing credentials.
        return super().get_authenticate_header(request) or "Bearer"


__all__ = [
    "CROWD",
    "HEAT",
    "SCENARIOS",
    "SITES",
    "ApiError",
    "FamilyAPIView",
    "RequestError",
    "error_response",
    "exception_handler",
    "family_for_path",
]
