"""The one way every API view runs (issue 11): authenticate, check, call the handler, render.

:class:`ApiView` keeps DRF's declarative surface (``authentication_classes``,
``permission_classes``, ``throttle_classes``, ``extend_schema`` on the handlers), so that
drf-spectacular documents it as before, but answers requests with a loop of its own instead of
DRF's request cycle (no ``Request`` wrapper, content negotiation or renderer classes): a plain
``HttpRequest`` in, ``request.user``/``request.auth`` set by the first authenticator that
recognises the credential, a dict or list out, rendered by :func:`render` (orjson).

Every failure goes through :func:`heatportal.api.errors.error_for` into the view's family
shape. Handlers read their body with ``self.data`` (JSON, read by
:func:`heatportal.api.input.parse_json`) or validate it into an input model with
``self.validated(Model)`` (Pydantic v2).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView, set_rollback

from heatportal.api.errors import HEAT, ErrorFamily, error_for, error_response
from heatportal.api.input import BadInput, parse_json
from heatportal.api.parsers import InvalidBody
from heatportal.api.rendering import render
from heatportal.audit import audit_context
from heatportal.db import db_call

if TYPE_CHECKING:
    from rest_framework.views import AsView, GenericView

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")
JSON_TYPES = ("application/json", "")  # no Content-Type: read as JSON, as DRF's default did


def _nothing() -> None:
    return None


class ApiView(APIView):
    """Base of every API view. ``error_family`` names the family whose error body it answers."""

    error_family: ErrorFamily = HEAT
    # Async views: check access in the handler's first self.pooled() call (one pool hop).
    access_in_first_call = False

    @classmethod
    def as_view(cls, **initkwargs: Any) -> AsView[GenericView]:
        view: Any  # a function that carries the attributes DRF's tooling reads, set below
        if cls.view_is_async:

            async def async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
                self = cls(**initkwargs)
                self.setup(request, *args, **kwargs)
                return await self.respond_async(request, *args, **kwargs)

            view = async_view
        else:

            def sync_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
                self = cls(**initkwargs)
                self.setup(request, *args, **kwargs)
                return self.respond(request, *args, **kwargs)

            view = sync_view
        functools.update_wrapper(view, cls, updated=())
        view.cls = cls  # what drf-spectacular and DRF's tooling look for
        view.initkwargs = initkwargs
        view.view_class = cls
        return csrf_exempt(view)

    # --- The request cycle -------------------------------------------------------------------

    def respond(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            handler = self._handler(request)
            self.check_access(request)
            with audit_context(via="api", request=request):  # who made its changes (heatportal/audit.py)
                result = handler(request, *args, **kwargs)
        except Exception as exc:  # error_for raises a crash again
            return self.failure(exc)
        return result if isinstance(result, HttpResponseBase) else render(result)

    async def respond_async(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            handler = self._handler(request)
            self._access_checked = not self.access_in_first_call
            if self._access_checked:
                await db_call(self.check_access)(request)  # the shared pool; the connection given back
            try:
                with audit_context(via="api", request=request):
                    result = handler(request, *args, **kwargs)
                    if inspect.isawaitable(result):  # not OPTIONS, which is the same for every view
                        result = await result
            except Exception:
                if not self._access_checked:  # refused access answers first, as it always did
                    await self.pooled(_nothing)
                raise
            if not self._access_checked:
                await self.pooled(_nothing)
        except Exception as exc:
            return self.failure(exc)
        return result if isinstance(result, HttpResponseBase) else render(result)

    async def pooled(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on the shared pool (:func:`db_call`).

        With ``access_in_first_call``, the request's first such call checks access
        (:meth:`check_access`) in the same trip to the pool, before ``fn``: one hop per request
        instead of two. What the handler does before that call must be free of side effects
        (reading the query, parsing the body): if it fails, or the handler never calls this,
        access is still checked first, so a refused credential answers as it would have."""
        if self._access_checked:
            return await db_call(fn)(*args, **kwargs)
        self._access_checked = True
        request = self.request

        def checked() -> T:
            self.check_access(request)
            return fn(*args, **kwargs)

        return await db_call(checked)()

    def _handler(self, request: HttpRequest) -> Callable[..., Any]:
        method = (request.method or "").lower()
        if method == "options":
            return self.allowed_options
        handler = getattr(self, method, None) if method in self.http_method_names else None
        if handler is None:
            raise exceptions.MethodNotAllowed(request.method or "")
        return handler

    def allowed_options(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = HttpResponse(status=200)
        response["Allow"] = ", ".join(self.allowed_methods)
        response["Content-Length"] = "0"
        return response

    def check_access(self, request: HttpRequest) -> None:
        """Authenticate (first authenticator that recognises the credential wins), then the
        permissions and throttles, raising DRF's exceptions as DRF would."""
        # The plain request stands in for DRF's Request: our authenticators, permissions and
        # throttles read only what both have (headers, META, user, auth).
        api_request = cast(Request, request)
        api_request.user, api_request.auth = AnonymousUser(), None
        for authenticator in self.get_authenticators():
            found = authenticator.authenticate(api_request)
            if found is not None:
                api_request.user, api_request.auth = found
                break
        for permission in self.get_permissions():
            if not permission.has_permission(api_request, self):
                if (
                    api_request.auth is None
                    and not api_request.user.is_authenticated
                    and self.get_authenticators()
                ):
                    raise exceptions.NotAuthenticated()
                raise exceptions.PermissionDenied(getattr(permission, "message", None))
        for throttle in self.get_throttles():
            if not throttle.allow_request(api_request, self):
                # Stub gap: DRF's throttled() passes wait straight to Throttled(wait), which takes None.
                self.throttled(api_request, throttle.wait())  # type: ignore[arg-type]

    def failure(self, exc: Exception) -> HttpResponse:
        error, headers = error_for(exc, self.error_family)  # re-raises a crash: handler500 answers
        if exc.__class__ is exceptions.NotAuthenticated or isinstance(exc, exceptions.AuthenticationFailed):
            authenticators = self.get_authenticators()
            header = authenticators[0].authenticate_header(self.request) if authenticators else None
            headers.setdefault("WWW-Authenticate", header or "Bearer")
        if isinstance(exc, exceptions.MethodNotAllowed):
            headers["Allow"] = ", ".join(self.allowed_methods)
        set_rollback()  # as DRF does: only a request's own transaction (ATOMIC_REQUESTS)
        return error_response(self.error_family, error, **headers)

    # --- The body ----------------------------------------------------------------------------

    @functools.cached_property
    def data(self) -> Any:
        """The JSON body (None when empty), read by :func:`parse_json`; 413 over
        ``DATA_UPLOAD_MAX_MEMORY_SIZE``, 415 for another content type."""
        request = self.request
        content_type = request.content_type or ""
        if content_type not in JSON_TYPES and not content_type.endswith("+json"):
            if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
                return request.POST  # RequestDataTooBig over the limit: error_for gives 413
            raise exceptions.UnsupportedMediaType(content_type)
        raw = request.body  # RequestDataTooBig over the limit: error_for gives 413
        if not raw:
            return {}
        encoding = request.encoding or settings.DEFAULT_CHARSET
        try:
            return parse_json(raw.decode(encoding))
        except (UnicodeDecodeError, LookupError) as error:
            raise InvalidBody(BadInput(f"the body is not {encoding}", kind="json_invalid")) from error
        except BadInput as error:
            raise InvalidBody(error) from None

    def validated(self, model: type[ModelT], data: Any = None) -> ModelT:
        """``data`` (the JSON body by default) as an instance of the input model ``model``;
        a Pydantic ValidationError becomes the family's validation error (error_for)."""
        return model.model_validate(self.data if data is None else data)


__all__ = ["ApiView", "PydanticValidationError", "render"]
