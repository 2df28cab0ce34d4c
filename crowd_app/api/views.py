"""The crowd API (document 004, CONTRACT §5): thin async views.

Blocking calls (``?block=N``) wait on an asyncio future from :mod:`crowd_app.notify`; their
database work runs in short :func:`heatportal.db.db_call` calls on the shared thread pool that
give the connection back, so that a waiting client costs neither a thread nor a database
connection. When the client goes away, Django cancels the view and the waiter is dropped.
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from typing import Any, cast

from django.core.exceptions import RequestDataTooBig
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import exceptions, permissions
from rest_framework.request import Request

from crowd_app import notify, selectors, services
from crowd_app.api import schema
from crowd_app.api.authentication import SLOW_DOWN, CrowdKeyAuthentication, CrowdKeyRateLimit, TooManyRequests
from crowd_app.api.inputs import BlockQuery
from crowd_app.api.outputs import abort_output, request_json
from crowd_app.demo import SAMPLE_REQUEST_ID
from crowd_app.models import CrowdApiKey, CrowdRequest, RequestType
from heatportal.api.errors import CROWD
from heatportal.api.input import BadInput, parse_json
from heatportal.api.rendering import render
from heatportal.api.schema import error_responses
from heatportal.api.views import ApiView
from heatportal.db import db_call
from heatportal.services import NotFound, ServiceError, TooLarge

NOT_FOUND = "Request not found"

BLOCK = OpenApiParameter(
    "block",
    {"type": "number", "minimum": 0},
    description=(
        "Wait up to this many seconds (at most CROWD_MAX_BLOCK_SECONDS, 60 by default) for the "
        "request to complete before answering."
    ),
)
REQUEST_ID = OpenApiParameter(
    "id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    examples=[OpenApiExample("The document's sample request", value=SAMPLE_REQUEST_ID)],
)


class CrowdView(ApiView):
    """Base of the crowd API's views: a crowd key, its rate limit, the crowd error body."""

    error_family = CROWD
    access_in_first_call = True  # the key's check and the query: one trip to the pool
    authentication_classes = [CrowdKeyAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [CrowdKeyRateLimit]

    @property
    def allowed_methods(self) -> list[str]:
        return [
            method.upper()
            for method in self.http_method_names
            if method != "options" and hasattr(self, method)
        ]

    def throttled(self, request, wait):
        raise TooManyRequests(SLOW_DOWN, wait=wait)

    def failure(self, exc: Exception):
        if isinstance(exc, exceptions.MethodNotAllowed):
            exc = exceptions.MethodNotAllowed(self.request.method or "", detail="Method not allowed")
        return super().failure(exc)

    @functools.cached_property
    def data(self) -> Any:
        """The JSON body, whatever the Content-Type says (``curl -d`` sends form's): the crowd
        API has only ever read JSON, and answers in its own words when it cannot."""
        try:
            raw = self.request.body
        except RequestDataTooBig:
            raise TooLarge("Request body too large") from None
        if not raw.strip():
            raise ServiceError("body: a JSON object is required")
        try:
            return parse_json(raw)
        except BadInput as error:
            raise ServiceError("body: invalid JSON" if error.kind == "json_invalid" else str(error)) from None

    def block_seconds(self) -> float:
        """``?block=N``; when the query repeats it, every value is checked (a bad one is a
        400, not hidden behind a later one) and the last one counts."""
        values: list[str | float] = [*self.request.GET.getlist("block")] or [0.0]
        return [BlockQuery.model_validate({"block": value}).block for value in values][-1]

    def request_id(self, segment: str) -> str:
        try:
            return str(uuid.UUID(segment))
        except ValueError:
            raise NotFound(NOT_FOUND) from None


def _api_key(request: Request) -> CrowdApiKey:
    """The request's key (``CrowdKeyAuthentication`` sets ``request.auth``)."""
    return cast(CrowdApiKey, request.auth)


# --- Reading ----------------------------------------------------------------------------------


def _read(request: Request, request_id: str) -> dict[str, Any]:
    body = selectors.request_output_get(api_key=_api_key(request), request_id=request_id)
    if body is None:
        raise NotFound(NOT_FOUND)
    return body


async def wait_until_done(request_id: str, seconds: float) -> dict | None:
    """The request's JSON once it is no longer pending, or None when ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    notify.release_request_thread()
    hub = notify.hub()
    future = hub.register(request_id)
    try:
        await hub.ready()
        # Completion published before the subscription was in place would be missed.
        if hub.uses_redis and not await db_call(selectors.request_pending)(request_id=request_id):
            return None
        return await asyncio.wait_for(future, timeout=max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        return None
    finally:
        hub.unregister(request_id, future)


async def answer_when_done(body: dict, block: float) -> dict:
    """``body``, or when it is pending and the client blocks, the request once done (or as it
    is when ``block`` seconds pass)."""
    if body["status"] != CrowdRequest.Status.PENDING or block <= 0:
        return body
    done = await wait_until_done(body["id"], block)
    return done if done is not None else await db_call(selectors.request_json_get)(request_id=body["id"])


class RequestView(CrowdView):
    # /v1/requests/{id}: a request by id (GET). A POST here names no known request type. (No
    # docstring: it would become the operation's description in the schema.)

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        try:
            uuid.UUID(kwargs["id"])
        except ValueError:
            self.http_method_names = ["get", "post"]  # neither an id nor a type: both answer 404
        else:
            self.http_method_names = ["get"]

    @extend_schema(
        operation_id="crowd_retrieve",
        summary="Retrieve a request",
        tags=["crowd"],
        parameters=[REQUEST_ID, BLOCK],
        responses={200: schema.CrowdRequestOutput},
    )
    async def get(self, request, id):
        block = self.block_seconds()
        body = await self.pooled(_read, request, self.request_id(id))
        return await answer_when_done(body, block)

    @extend_schema(exclude=True)  # the known types are documented one by one (CreateRequestView)
    async def post(self, request, id):
        raise NotFound(f"Unknown request type {id!r}")


# --- Creating ---------------------------------------------------------------------------------


def _create(request: Request, request_type: str, body: Any) -> dict[str, Any]:
    return request_json(
        services.request_create(api_key=_api_key(request), request_type=request_type, body=body)
    )


class CreateRequestView(CrowdView):
    """``POST /v1/requests/{type}``: one subclass per type (:data:`CREATE_VIEWS`), each with
    its type's body in the schema."""

    request_type: str

    async def create(self, request):
        block = self.block_seconds()
        body = await self.pooled(_create, request, self.request_type, self.data)
        return await answer_when_done(body, block)


def _create_view(request_type: str) -> type[CreateRequestView]:
    @extend_schema(
        operation_id=f"crowd_create_{request_type.replace('-', '_')}",
        summary=f"Create a {request_type} request",
        tags=["crowd"],
        parameters=[BLOCK],
        request=schema.REQUEST_BODIES[request_type],
        responses={200: schema.CrowdRequestOutput},
    )
    async def post(self, request):
        return await self.create(request)

    name = "".join(part.title() for part in request_type.split("-"))
    return type(
        f"Create{name}RequestView", (CreateRequestView,), {"request_type": request_type, "post": post}
    )


CREATE_VIEWS: dict[str, type[CreateRequestView]] = {
    request_type: _create_view(request_type) for request_type in RequestType.values
}


# --- Aborting ---------------------------------------------------------------------------------


def _abort(request: Request, request_id: str) -> dict[str, Any]:
    if not selectors.request_visible(api_key=_api_key(request), request_id=request_id):
        raise NotFound(NOT_FOUND)
    try:
        services.request_abort(crowd_request=CrowdRequest(pk=request_id))
    except ServiceError as error:
        return abort_output(error=error.message)
    return abort_output(error=None)


class AbortView(CrowdView):
    @extend_schema(
        operation_id="crowd_abort",
        summary="Abort a pending request",
        tags=["crowd"],
        parameters=[REQUEST_ID],
        request=None,
        responses={
            200: schema.AbortResult,
            400: OpenApiResponse(
                {
                    "anyOf": [
                        {"$ref": "#/components/schemas/AbortResult"},
                        {"$ref": "#/components/schemas/CrowdError"},
                    ]
                },
                description='{"success": false, "message"} when the request is no longer pending; '
                "the crowd error body for an unreadable request",
            ),
            **error_responses(401, 404, 429),
        },
    )
    async def post(self, request, id):
        # {"success": true} while pending; 400 with {"success": false} after.
        result = await self.pooled(_abort, request, self.request_id(id))
        return render(result, status=200 if result["success"] else 400)
