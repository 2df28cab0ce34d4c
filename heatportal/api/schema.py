"""The OpenAPI schema's shared parts: each API family's error body as a component, and the
error responses every operation of a family can answer, declared in one place.

:class:`FamilyAutoSchema` (the project's ``DEFAULT_SCHEMA_CLASS``) adds to each operation of a
view that names its ``error_family`` the statuses that follow from the view itself:

- 400 always: a request that cannot be read (bad characters in a path, query or header, a
  malformed body) is refused in the family's shape by every operation;
- 401 and 429 when credentials are required (a wrong credential is counted and throttled);
- 403 when a permission beyond "signed in" applies (roles), or a portal session cookie is
  accepted on an unsafe method (CSRF);
- 404 when the path has parameters;
- 413 when the operation takes a body (``DATA_UPLOAD_MAX_MEMORY_SIZE``, upload limits);
- 422 for the runner's operations with a JSON body (its Pydantic-style validation errors).

Statuses an operation has beyond those (409, 503, ...) are declared on the view with
:func:`error_responses`; any error status declared without a body gets the family's body.
"""

from __future__ import annotations

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_doc
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers
from rest_framework.authentication import SessionAuthentication

from heatportal.api.errors import CROWD, HEAT, SCENARIOS, SITES, ErrorFamily


class SessionCookieScheme(SessionScheme):
    """:class:`heatportal.api.authentication.SessionCookieAuthentication` is the session cookie
    (``cookieAuth``), as DRF's SessionAuthentication is (spectacular matches exact classes)."""

    target_class = "heatportal.api.authentication.SessionCookieAuthentication"


class BearerScheme(OpenApiAuthenticationExtension):
    """An ``Authorization: Bearer`` credential: each subclass names its authentication class
    (``target_class``), its scheme ``name``, its ``bearer_format`` if it has one, and what it is."""

    bearer_format: str | None = None
    description = ""

    def get_security_definition(self, auto_schema):
        definition = {"type": "http", "scheme": "bearer"}
        if self.bearer_format:
            definition["bearerFormat"] = self.bearer_format
        return {**definition, "description": self.description}


# --- The families' error bodies ---------------------------------------------------------------


class FieldError(serializers.Serializer):
    field = serializers.CharField()
    message = serializers.CharField()


class HeatError(serializers.Serializer):
    """The HEAT v2 API's and HEAT Auth's error body."""

    status = serializers.ChoiceField(choices=["error"])
    message = serializers.CharField()
    # The body's key is "errors"; the stubs see Serializer.errors (DRF's metaclass moves
    # declared fields off the class, so nothing is shadowed at run time).
    errors = FieldError(many=True, required=False, help_text="The offending fields, when known.")  # type: ignore[assignment]


class SitesError(serializers.Serializer):
    """The energy sites APIs' error body (public API and gateway API)."""

    error = serializers.CharField(help_text="unauthorized, not_found, validation_error, rate_limited, ...")
    message = serializers.CharField()
    details = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="Each offending field, command or entry (validation_error).",
    )


class RunnerError(serializers.Serializer):
    """The scenario runner's error body for 400, 401, 403, 404, 409, 413 and 429."""

    detail = serializers.CharField()


class RunnerValidationItem(serializers.Serializer):
    type = serializers.CharField()
    loc = serializers.ListField(child=serializers.JSONField())
    msg = serializers.CharField()
    input = serializers.JSONField(allow_null=True)
    ctx = serializers.DictField(required=False)


class RunnerValidationError(serializers.Serializer):
    """The scenario runner's 422 body, as Pydantic gives it."""

    detail = RunnerValidationItem(many=True)


class CrowdError(serializers.Serializer):
    """The crowd API's error body."""

    status = serializers.ChoiceField(choices=["error"])
    code = serializers.IntegerField(help_text="The HTTP status.")
    message = serializers.CharField()


ERROR_BODIES: dict[str, type[serializers.Serializer]] = {
    HEAT.name: HeatError,
    SITES.name: SitesError,
    SCENARIOS.name: RunnerError,
    CROWD.name: CrowdError,
}

DESCRIPTIONS = {
    400: "Bad request: the body, a parameter or a header is invalid or cannot be read",
    401: "Missing or invalid credentials",
    403: "The credentials do not allow this operation",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict with the current state",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation error",
    429: "Too many requests; retry after the number of seconds in Retry-After",
    503: "Service unavailable",
}

RESPONSE_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": "The authentication scheme to use.",
        }
    },
    429: {
        "Retry-After": {
            "schema": {"type": "string"},
            "description": "Seconds to wait before the next request.",
        }
    },
}


def error_body(family: ErrorFamily, status: int) -> type[serializers.Serializer]:
    if family is SCENARIOS and status == 422:
        return RunnerValidationError
    return ERROR_BODIES[family.name]


def error_responses(*statuses: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """Error statuses for ``extend_schema(responses=...)``; the view's family gives the body.

    ``descriptions`` overrides a status's description: ``error_responses(409, d409="...")``.
    """
    return {
        status: OpenApiResponse(description=descriptions.get(f"d{status}", DESCRIPTIONS.get(status, "")))
        for status in statuses
    }


# --- The schema class -------------------------------------------------------------------------

_PLAIN_PERMISSIONS = (permissions.AllowAny, permissions.IsAuthenticated)


class FamilyAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with each family's error responses (see the module doc)."""

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and not field.allow_blank
            and field.trim_whitespace
        ):
            meta.setdefault("pattern", r"\S")  # blank after trimming is refused too
        return meta

    def _get_parameters(self):
        # Path parameters get the demo data's values as examples (``path_examples`` on the view),
        # except on DELETE and PATCH, where an example would remove or rename the demo data.
        parameters = super()._get_parameters()
        examples = getattr(self.view, "path_examples", {})
        if self.method not in ("DELETE", "PATCH"):
            for parameter in parameters:
                if parameter.get("in") == "path" and parameter["name"] in examples:
                    parameter.setdefault("example", examples[parameter["name"]])
        return parameters

    # Stub gap: drf-spectacular's AutoSchema drops the (path, method) arguments of DRF's
    # ViewInspector.get_description and ignores the override itself.
    def get_description(self) -> str:  # type: ignore[override]
        # A view's description is its handler's or its own docstring, never a base class's.
        handler = getattr(self.view, getattr(self.view, "action", self.method.lower()), None)
        own = self.view.__class__.__dict__.get("__doc__")
        return get_doc(handler) or (get_doc(self.view.__class__) if own else "")

    def _family(self) -> ErrorFamily | None:
        return getattr(self.view, "error_family", None)

    def _requires_credentials(self) -> bool:
        auth = self.get_auth()
        return bool(auth) and {} not in auth

    def _role_restricted(self) -> bool:
        return any(not isinstance(p, _PLAIN_PERMISSIONS) for p in self.view.get_permissions())

    def _csrf_checked(self) -> bool:
        # A signed-in portal session (cookieAuth) must send a CSRF token with unsafe methods.
        unsafe = self.method not in ("GET", "HEAD", "OPTIONS")
        return unsafe and any(isinstance(a, SessionAuthentication) for a in self.view.get_authenticators())

    def _takes_body(self) -> bool:
        if self.method not in ("POST", "PUT", "PATCH"):
            return False
        return self.get_request_serializer() is not None

    def standard_error_statuses(self, family: ErrorFamily) -> list[int]:
        statuses = [400]
        if self._requires_credentials():
            statuses += [401, 429]
        if self._role_restricted() or (self._requires_credentials() and self._csrf_checked()):
            statuses.append(403)
        if "{" in self.path:
            statuses.append(404)
        if self._takes_body():
            statuses.append(413)
            if family is SCENARIOS:
                statuses.append(422)
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        family = self._family()
        if family is None:
            return responses
        wanted = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
        wanted.update(self.standard_error_statuses(family))
        for status in sorted(wanted):
            code = str(status)
            existing = responses.get(code) or {}
            if existing.get("content"):
                continue  # the view describes this error's body itself
            description = existing.get("description") or DESCRIPTIONS.get(status, "")
            response = self._get_response_for_code(
                OpenApiResponse(error_body(family, status), description=description), code
            )
            if status in RESPONSE_HEADERS:
                response["headers"] = {**RESPONSE_HEADERS[status], **response.get("headers", {})}
            responses[code] = response
        return dict(sorted(responses.items()))
