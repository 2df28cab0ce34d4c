"""HeatClient: sessions, uploads and discovery on the HEAT v2 API, with HEAT Auth handled.

The Python counterpart of HEAT.Common's ``IHeatClient``: the same operations in Python naming,
the same authentication modes and the same exceptions.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import fields
from types import TracebackType
from typing import Any, Self

import httpx

from heat_client._auth import Credentials, PasswordCredentials, TokenCredentials, describe_transport_error
from heat_client._uploads import UploadBody, UploadData, upload_body
from heat_client._version import __version__
from heat_client.config import DEFAULT_TIMEOUT, HeatClientOptions
from heat_client.exceptions import HeatApiException, HeatAuthenticationException, HeatConnectionException
from heat_client.models import (
    CloseSessionRequest,
    CreateSessionRequest,
    CreateSharedSessionRequest,
    NodeOutputInfo,
    ProjectInfo,
    SessionInfo,
    SessionTemplateInfo,
)

logger = logging.getLogger("heat_client")

V2 = "/api/v2"
OCTET_STREAM = "application/octet-stream"


class HeatClient:
    """A synchronous client of one HEAT environment. Thread-safe; close it (or use it as a
    context manager) to release its connections.

    Authenticate with ``token`` (sent as a bearer token, never refreshed) or with ``username``
    and ``password`` (signed in through HEAT Auth; on a 401 the client refreshes once and
    retries). With ``auto_connect`` the health check runs before the first operation.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        remember_me: bool = True,
        auto_connect: bool = True,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        verify: bool | str = True,
    ):
        self.options = HeatClientOptions(
            base_url=base_url or "",
            token=token,
            username=username,
            password=password,
            remember_me=remember_me,
            auto_connect=auto_connect,
            timeout=timeout,
            verify=verify,
        )
        self._http = httpx.Client(
            base_url=self.options.base_url,
            timeout=self.options.timeout,
            verify=self.options.verify,
            headers={"User-Agent": f"heat-client-python/{__version__}", "Accept": "application/json"},
        )
        self._credentials: Credentials = (
            PasswordCredentials(self._http, self.options)
            if self.options.uses_password
            else TokenCredentials(self.options.token or "")
        )
        self._connected = False

    @classmethod
    def from_options(cls, options: HeatClientOptions) -> Self:
        return cls(**{field.name: getattr(options, field.name) for field in fields(options)})

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """A client configured by ``HEAT_BASE_URL``, ``HEAT_TOKEN``, ``HEAT_USERNAME`` and
        ``HEAT_PASSWORD``; keyword arguments (those of the constructor) take precedence."""
        return cls.from_options(HeatClientOptions.from_env(**overrides))

    @property
    def base_url(self) -> str:
        return self.options.base_url

    @property
    def is_connected(self) -> bool:
        return self._connected

    def __repr__(self) -> str:
        auth = f"user {self.options.username!r}" if self.options.uses_password else "token"
        return f"<HeatClient {self.base_url} ({auth})>"

    # --- Life cycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- Connect ------------------------------------------------------------------------------

    def connect(self) -> None:
        """Check that the environment is reachable: ``GET /api/v2/health`` must answer 200.

        Raises HeatConnectionException otherwise.
        """
        url = f"{self.base_url}{V2}/health"
        try:
            response = self._http.get(f"{V2}/health")
        except httpx.TransportError as error:
            raise HeatConnectionException(
                f"HEAT environment at {self.base_url} is not reachable ({describe_transport_error(error)}). "
                "Check the base URL, your network and firewall, and that the V2 API is running."
            ) from error
        if response.status_code != 200:
            detail = HeatApiException.from_response("Connect", response).server_message
            raise HeatConnectionException(
                f"HEAT environment at {self.base_url} did not return OK: GET {url} answered "
                f"{response.status_code} ({detail}). Verify the base URL (no trailing slash, the "
                "ingress URL for external use) and that the V2 API is running."
            )
        self._connected = True

    # --- Discovery ----------------------------------------------------------------------------

    def get_session_templates(self) -> list[SessionTemplateInfo]:
        """All session templates; use an ``id`` as ``CreateSessionRequest.session_template_id``."""
        data = self._json_list(
            "GetSessionTemplates", self._call("GetSessionTemplates", "GET", "/session_templates")
        )
        return [SessionTemplateInfo.from_json(item) for item in data]

    def get_platform_configuration_by_prefix(self, prefix: str) -> dict[str, Any]:
        """Platform configuration whose names equal or start with ``prefix``, with typed values.
        Empty if nothing matches or the API answers 404. Non-admins may only read the prefixes
        HEAT makes public (e.g. ``public_api_v1``)."""
        operation = "GetPlatformConfigurationByPrefix"
        response = self._call(operation, "GET", "/config", params={"prefix": prefix})
        if response.status_code == 404:
            return {}
        data = self._json(operation, response)
        if not isinstance(data, dict):
            raise HeatApiException(operation, response.status_code, response.text, "expected a JSON object")
        return data

    def get_projects(self) -> list[ProjectInfo]:
        """All projects; use an ``id`` as the ``project_id`` of session creation."""
        data = self._json_list("GetProjects", self._call("GetProjects", "GET", "/projects"))
        return [ProjectInfo.from_json(item) for item in data]

    # --- Sessions -----------------------------------------------------------------------------

    def create_session(self, project_id: int, request: CreateSessionRequest) -> SessionInfo:
        """Create a session in a project, with ``request.session_template_id`` or, when that is
        None, the project's default template."""
        operation = "CreateSession"
        response = self._call(operation, "POST", f"/projects/{project_id}/sessions", json=request.to_json())
        return SessionInfo.from_json(self._json_object(operation, response))

    def create_or_join_shared_session(
        self, project_id: int, request: CreateSharedSessionRequest
    ) -> SessionInfo:
        """Join the open shared session that matches ``request`` within its time window, or
        create it."""
        operation = "CreateOrJoinSharedSession"
        response = self._call(
            operation, "POST", f"/projects/{project_id}/sessions/shared", json=request.to_json()
        )
        return SessionInfo.from_json(self._json_object(operation, response))

    def get_session(self, session_id: uuid.UUID | str) -> SessionInfo | None:
        """The session with its node instances, or None if there is none with this id."""
        operation = "GetSession"
        response = self._call(operation, "GET", f"/sessions/{session_id}")
        if response.status_code == 404:
            return None
        return SessionInfo.from_json(self._json_object(operation, response))

    def close_session(self, session_id: uuid.UUID | str, request: CloseSessionRequest | None = None) -> bool:
        """Close a (shared) session. Idempotent: closing it again keeps the first closing.
        Returns True when HEAT confirms; errors raise HeatApiException."""
        operation = "CloseSession"
        request = request or CloseSessionRequest()
        response = self._call(operation, "POST", f"/sessions/{session_id}/close", json=request.to_json())
        self._check(operation, response)
        return True

    # --- Uploads and outputs ------------------------------------------------------------------

    def upload_node_output(
        self, node_instance_id: int, data: UploadData, *, content_type: str = OCTET_STREAM
    ) -> NodeOutputInfo:
        """Upload raw bytes to a node instance; HEAT stores them and records a node output.

        ``data`` is bytes, a path, a binary file object (read from its current position) or an
        iterator of bytes. Files and streams are sent in chunks, never read whole into memory.
        After a 401 with password sign-in the upload is retried once, except from a stream that
        cannot be rewound (a pipe, a generator): that raises HeatAuthenticationException.
        """
        operation = "UploadNodeOutput"
        body = upload_body(data)
        response = self._call(
            operation,
            "POST",
            f"/node_instances/{node_instance_id}/outputs",
            upload=body,
            headers={"Content-Type": content_type},
        )
        return NodeOutputInfo.from_json(self._json_object(operation, response))

    def get_node_outputs(self, node_instance_id: int) -> list[NodeOutputInfo]:
        """A node instance's outputs, oldest first; empty if there are none or the node instance
        does not exist (404)."""
        operation = "GetNodeOutputs"
        response = self._call(operation, "GET", f"/node_instances/{node_instance_id}/outputs")
        if response.status_code == 404:
            return []
        return [NodeOutputInfo.from_json(item) for item in self._json_list(operation, response)]

    # --- Plumbing -----------------------------------------------------------------------------

    def _ensure_connected(self) -> None:
        if self._connected:
            return
        if not self.options.auto_connect:
            raise HeatConnectionException(
                "Not connected to HEAT: call connect() first, or create the client with auto_connect=True."
            )
        self.connect()

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        upload: UploadBody | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one v2 request with the bearer token. A 401 renews the token and retries once
        (when the credentials can be renewed and the body can be sent again); a 401 that
        remains raises HeatAuthenticationException. Other statuses are the caller's to judge."""
        self._ensure_connected()
        token = self._credentials.access_token()
        response = self._send(operation, method, path, token, json, params, upload, headers)
        if response.status_code != 401:
            return response
        if upload is not None and not upload.rewindable:
            if not self._credentials.renew(token):
                raise HeatAuthenticationException(
                    self._credentials.rejected_message(operation), status_code=401
                )
            # Renewed for the next call, but the stream's bytes are gone: no retry.
            raise HeatAuthenticationException(
                f"Authentication failed: {operation} was refused (401). The access token has been renewed, "
                "but the data came from a stream that cannot be rewound, so it was not sent again: retry "
                "the upload with a fresh stream.",
                status_code=401,
            )
        if self._credentials.renew(token):
            logger.info("HEAT answered 401 to %s; retrying with a renewed token", operation)
            token = self._credentials.access_token()
            response = self._send(operation, method, path, token, json, params, upload, headers)
            if response.status_code != 401:
                return response
        raise HeatAuthenticationException(self._credentials.rejected_message(operation), status_code=401)

    def _send(
        self,
        operation: str,
        method: str,
        path: str,
        token: str,
        json: Any,
        params: dict[str, Any] | None,
        upload: UploadBody | None,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        request_headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
        content = None
        if upload is not None:
            content = upload.open()
            if upload.length is not None:
                # Sent instead of chunked encoding: lets the server refuse an oversized upload
                # (413) before it reads it.
                request_headers["Content-Length"] = str(upload.length)
        try:
            return self._http.request(
                method, f"{V2}{path}", json=json, params=params, content=content, headers=request_headers
            )
        except httpx.TransportError as error:
            raise HeatConnectionException(
                f"{operation} could not reach HEAT at {self.base_url} ({describe_transport_error(error)}). "
                "Check the base URL, your network and firewall, and that the V2 API is running."
            ) from error
        finally:
            if upload is not None:
                upload.close()

    @staticmethod
    def _check(operation: str, response: httpx.Response) -> None:
        if not 200 <= response.status_code < 300:
            raise HeatApiException.from_response(operation, response)

    def _json(self, operation: str, response: httpx.Response) -> Any:
        self._check(operation, response)
        try:
            return response.json()
        except ValueError as error:
            raise HeatApiException(
                operation, response.status_code, response.text, "the response is not JSON"
            ) from error

    def _json_object(self, operation: str, response: httpx.Response) -> dict[str, Any]:
        data = self._json(operation, response)
        if not isinstance(data, dict):
            raise HeatApiException(operation, response.status_code, response.text, "expected a JSON object")
        return data

    def _json_list(self, operation: str, response: httpx.Response) -> list[dict[str, Any]]:
        data = self._json(operation, response)
        if not isinstance(data, list):
            raise HeatApiException(operation, response.status_code, response.text, "expected a JSON list")
        return data
