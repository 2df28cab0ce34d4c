"""The crowd API (document 004, CONTRACT §5) as async Django views.

Blocking calls (``?block=N``) wait on an asyncio event from :mod:`crowd_app.notify`; their
database work runs in short calls on the shared thread pool that give the connection back, so
a waiting client costs neither a thread nor a database connection. When the client goes away,
Django cancels the view and the waiter is dropped.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from crowd_app import notify
from crowd_app.models import CrowdApiKey, CrowdRequest, RequestType
from crowd_app.notify import db_call
from crowd_app.selectors import request_json, request_visible_to_key
from crowd_app.services import ServiceError, rate_limit_retry_after, request_abort, request_create
from heatportal.api.errors import CROWD, ApiError, error_response
from heatportal.api.input import BadInput, parse_json
from heatportal.credentials import CredentialThrottled, InvalidCredential, credential_authenticate
from heatportal.ratelimit import client_address


class Failure(Exception):
    def __init__(self, status: int, message: str, **headers: str):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def _fail(failure: Failure) -> JsonResponse:
    return error_response(CROWD, ApiError(status=failure.status, message=failure.message), **failure.headers)


def presented_key(request: HttpRequest) -> str:
    """``X-Heat-API-Key``, or the user name of HTTP Basic (``curl -u "KEY:"``)."""
    value = request.headers.get("X-Heat-API-Key", "").strip()
    if value:
        return value
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(encoded.strip(), validate=True).decode().partition(":")[0].strip()
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


@dataclass(frozen=True)
class Presented:
    """What a call presents to authenticate: the key, and the address it comes from."""

    key: str
    address: str

    @classmethod
    def of(cls, request: HttpRequest) -> Presented:
        return cls(presented_key(request), client_address(request))


def _authenticate(presented: Presented) -> CrowdApiKey:
    keys = CrowdApiKey.objects.select_related("account")
    try:
        api_key = credential_authenticate(keys, presented.key, client_address=presented.address)
    except CredentialThrottled as throttled:
        raise Failure(429, str(throttled), **{"Retry-After": str(throttled.retry_after)}) from None
    except InvalidCredential:
        raise Failure(
            401, "Unauthorized: no valid API key provided", **{"WWW-Authenticate": 'Basic realm="heat"'}
        ) from None
    retry_after = rate_limit_retry_after(api_key=api_key)
    if retry_after is not None:
        raise Failure(429, "Too many requests: slow down", **{"Retry-After": str(retry_after)})
    return api_key


def _block_seconds(request: HttpRequest) -> float:
    raw = request.GET.get("block", "0").strip() or "0"
    try:
        value = float(raw)
    except ValueError:
        raise Failure(400, "block: must be a number of seconds") from None
    if value < 0 or value != value:
        raise Failure(400, "block: must be a number of seconds") from None
    return min(value, settings.CROWD_MAX_BLOCK_SECONDS)


@dataclass
class Snapshot:
    request_id: str
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def pending(self) -> bool:
        return self.body.get("status") == CrowdRequest.Status.PENDING


@db_call
def _create(presented: Presented, request_type: str, body: Any) -> Snapshot:
    api_key = _authenticate(presented)
    try:
        crowd_request = request_create(api_key=api_key, request_type=request_type, body=body)
    except ServiceError as error:
        raise Failure(error.status, error.message) from error
    return Snapshot(str(crowd_request.pk), request_json(crowd_request))


@db_call
def _retrieve(presented: Presented, request_id: str) -> Snapshot:
    api_key = _authenticate(presented)
    crowd_request = request_visible_to_key(api_key=api_key, request_id=request_id)
    if crowd_request is None:
        raise Failure(404, "Request not found")
    return Snapshot(request_id, request_json(crowd_request))


@db_call
def _reload(request_id: str) -> Snapshot:
    crowd_request = CrowdRequest.objects.prefetch_related("answers__cruncher").get(pk=request_id)
    return Snapshot(request_id, request_json(crowd_request))


@db_call
def _is_pending(request_id: str) -> bool:
    return CrowdRequest.objects.filter(pk=request_id, status=CrowdRequest.Status.PENDING).exists()


@db_call
def _abort(presented: Presented, request_id: str) -> dict:
    api_key = _authenticate(presented)
    crowd_request = request_visible_to_key(api_key=api_key, request_id=request_id)
    if crowd_request is None:
        raise Failure(404, "Request not found")
    try:
        request_abort(crowd_request=crowd_request)
    except ServiceError as error:
        return {"success": False, "message": error.message}
    return {"success": True}


async def wait_until_done(request_id: str, seconds: float) -> dict | None:
    """The request's JSON once it is no longer pending, or None when ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    notify.release_request_thread()
    hub = notify.hub()
    future = hub.register(request_id)
    try:
        await hub.ready()
        # Completion published before the subscription was in place would be missed.
        if hub.uses_redis and not await _is_pending(request_id):
            return None
        return await asyncio.wait_for(future, timeout=max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        return None
    finally:
        hub.unregister(request_id, future)


def _parse_json(request: HttpRequest) -> Any:
    try:
        raw = request.body
    except RequestDataTooBig:
        raise Failure(413, "Request body too large") from None
    if not raw.strip():
        raise Failure(400, "body: a JSON object is required")
    try:
        return parse_json(raw)
    except BadInput as error:
        raise Failure(400, "body: invalid JSON" if error.kind == "json_invalid" else str(error)) from None


def allowed_methods(segment: str) -> str:
    """What ``/v1/requests/{segment}`` answers: POST for a request type, GET for a request id;
    both for anything else (an unknown type is a 404, as is an unknown id)."""
    if segment in RequestType.values:
        return "POST"
    try:
        uuid.UUID(segment)
    except ValueError:
        return "GET, POST"
    return "GET"


@csrf_exempt
async def requests_endpoint(request: HttpRequest, segment: str) -> JsonResponse:
    """``POST /v1/requests/{type}`` creates; ``GET /v1/requests/{id}`` retrieves."""
    try:
        allowed = allowed_methods(segment)
        if request.method not in allowed.split(", "):
            raise Failure(405, "Method not allowed", Allow=allowed)
        block = _block_seconds(request)
        if request.method == "POST":
            body = _parse_json(request)
            snapshot = await _create(Presented.of(request), segment, body)
        else:
            try:
                request_id = str(uuid.UUID(segment))
            except ValueError:
                raise Failure(404, "Request not found") from None
            snapshot = await _retrieve(Presented.of(request), request_id)
        if snapshot.pending and block > 0:
            body = await wait_until_done(snapshot.request_id, block)
            return JsonResponse(body if body is not None else (await _reload(snapshot.request_id)).body)
        return JsonResponse(snapshot.body)
    except Failure as failure:
        return _fail(failure)


@csrf_exempt
async def abort_endpoint(request: HttpRequest, segment: str) -> JsonResponse:
    """``POST /v1/tasks/abort/{id}``: ``{"success": true}`` while pending, 400 after."""
    try:
        if request.method != "POST":
            raise Failure(405, "Method not allowed", Allow="POST")
        try:
            request_id = str(uuid.UUID(segment))
        except ValueError:
            raise Failure(404, "Request not found") from None
        result = await _abort(Presented.of(request), request_id)
        return JsonResponse(result, status=200 if result["success"] else 400)
    except Failure as failure:
        return _fail(failure)
