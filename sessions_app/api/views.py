"""HEAT v2 API views: parse with a serializer, call a selector or service, render."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from heatportal.accounts.authentication import BearerTokenAuthentication
from heatportal.accounts.models import User
from heatportal.api.errors import HEAT, FamilyAPIView, RequestError
from heatportal.api.fields import snake_keys
from heatportal.api.schema import error_responses
from heatportal.files import stream_stored_file
from sessions_app import selectors, services
from sessions_app.api import serializers as io
from sessions_app.models import NodeOutput, PlatformConfiguration, Project, Session, SessionTemplate


class IsAdmin(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.user.role == User.Role.ADMIN


class IsAdminOrInstructor(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.user.role in (User.Role.ADMIN, User.Role.INSTRUCTOR)


class HeatView(FamilyAPIView):
    """Base of the v2 views: bearer tokens, the v2 error body, service errors mapped to HTTP."""

    error_family = HEAT
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = None
    path_examples = {"project_id": 1, "node_instance_id": 1, "output_id": 1}  # seed_demo's first rows

    def handle_exception(self, exc):
        if isinstance(exc, services.ServiceError):
            exc = RequestError(exc.status, exc.message)
        return super().handle_exception(exc)

    @staticmethod
    def parse(serializer_class, data, message: str) -> dict:
        """The validated body; a 400 with ``message`` and the offending fields otherwise."""
        if not isinstance(data, dict):
            raise RequestError(400, message, {"body": ["Expected a JSON object."]})
        serializer = serializer_class(data=snake_keys(data))
        if not serializer.is_valid():
            raise RequestError(400, message, serializer.errors)
        return serializer.validated_data


def get_or_404(queryset, message: str, *, status_code: int = 404, **lookup):
    """The row, or an error (404 unless told otherwise) with the documented message."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as error:
        raise RequestError(status_code, message) from error


# --- Health -----------------------------------------------------------------------------------


class HealthView(HeatView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses={
            200: inline_serializer("Health", {"status": serializers.ChoiceField(choices=["ok"])}),
            **error_responses(503),
        }
    )
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            return Response(
                {"status": "error", "message": "Service unavailable. Please try again later."},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response({"status": "ok"})


# --- Templates, user data ---------------------------------------------------------------------


class SessionTemplatesView(HeatView):
    @extend_schema(responses=io.SessionTemplateOutput(many=True))
    def get(self, request):
        return Response(io.SessionTemplateOutput(selectors.session_templates(), many=True).data)


class UserDataView(HeatView):
    @extend_schema(responses=io.UserDataOutput)
    def get(self, request):
        return Response(io.UserDataOutput(request.user).data)


# --- Projects ---------------------------------------------------------------------------------


def _project_fields(data: dict, *, default_owner: User) -> dict:
    fields = {key: data[key] for key in ("title", "description", "icon") if key in data}
    if data.get("owner_id") is not None:
        fields["owner"] = get_or_404(
            User.objects.all(), "Invalid project data.", status_code=400, pk=data["owner_id"]
        )
    elif default_owner is not None:
        fields["owner"] = default_owner
    if "default_session_template_id" in data:
        template_id = data["default_session_template_id"]
        fields["default_session_template"] = (
            None
            if template_id is None
            else get_or_404(
                SessionTemplate.objects.all(), "Invalid project data.", status_code=400, pk=template_id
            )
        )
    return fields


class ProjectsView(HeatView):
    def get_permissions(self):
        if self.request.method == "POST":
            return [permissions.IsAuthenticated(), IsAdminOrInstructor()]
        return super().get_permissions()

    @extend_schema(responses=io.ProjectOutput(many=True))
    def get(self, request):
        return Response(io.ProjectOutput(selectors.projects(), many=True).data)

    @extend_schema(request=io.ProjectInput, responses={201: io.ProjectOutput})
    def post(self, request):
        data = self.parse(io.ProjectInput, request.data, "Invalid project data.")
        fields = _project_fields(data, default_owner=request.user)
        project = services.project_create(**fields)
        return Response(io.ProjectOutput(selectors.projects().get(pk=project.pk)).data, status=201)


class ProjectDetailView(HeatView):
    def get_permissions(self):
        if self.request.method == "PUT":
            return [permissions.IsAuthenticated(), IsAdminOrInstructor()]
        return super().get_permissions()

    @extend_schema(responses=io.ProjectOutput)
    def get(self, request, project_id: int):
        project = get_or_404(selectors.projects(), "Project not found", pk=project_id)
        return Response(io.ProjectOutput(project).data)

    @extend_schema(request=io.ProjectInput, responses=io.ProjectOutput)
    def put(self, request, project_id: int):
        project = get_or_404(Project.objects.all(), "Project not found.", pk=project_id)
        data = self.parse(io.ProjectInput, request.data, "Invalid project data.")
        fields = _project_fields(data, default_owner=None)
        services.project_update(project=project, **fields)
        return Response(io.ProjectOutput(selectors.projects().get(pk=project.pk)).data)


# --- Sessions ---------------------------------------------------------------------------------


def _session_response(session: Session, *, status_code: int = 200, patch: bool = False) -> Response:
    session = selectors.sessions().get(pk=session.pk)
    output = io.SessionPatchOutput if patch else io.SessionOutput
    return Response(output(session).data, status=status_code)


class SessionCreateView(HeatView):
    """``POST /session``, ``POST /sessions`` and ``POST /projects/{projectId}/sessions``."""

    @extend_schema(request=io.SessionInput, responses={201: io.SessionOutput, **error_responses(404)})
    def post(self, request, project_id: int | None = None):
        data = self.parse(io.SessionInput, request.data, "Invalid session request.")
        project_id = project_id if project_id is not None else data.get("project_id")
        if project_id is None:
            raise RequestError(400, "Invalid session request. ProjectId and TemplateId are required.")
        project = get_or_404(
            Project.objects.select_related("default_session_template"), "Project not found", pk=project_id
        )
        template = None
        if data.get("session_template_id") is not None:
            template = get_or_404(
                SessionTemplate.objects.all(), "Session template not found", pk=data["session_template_id"]
            )
        session = services.session_create(
            user=request.user,
            project=project,
            session_template=template,
            name=data["name"],
            email=data["email"],
            simulation_name=data.get("simulation_name"),
            metadata=data.get("metadata"),
        )
        return _session_response(session, status_code=201)


class SessionDetailView(HeatView):
    @extend_schema(responses=io.SessionOutput)
    def get(self, request, session_id):
        return Response(
            io.SessionOutput(get_or_404(selectors.sessions(), "Session not found", pk=session_id)).data
        )

    @extend_schema(request=io.SessionPatchInput, responses=io.SessionPatchOutput)
    def patch(self, request, session_id):
        session = get_or_404(Session.objects.all(), "Session not found", pk=session_id)
        data = self.parse(io.SessionPatchInput, request.data, "Invalid session data")
        fields = {key: data[key] for key in ("name", "email", "simulation_name", "metadata") if key in data}
        if "project_id" in data:
            fields["project"] = get_or_404(
                Project.objects.all(), "Invalid session data", status_code=400, pk=data["project_id"]
            )
        if "session_template_id" in data:
            fields["session_template"] = get_or_404(
                SessionTemplate.objects.all(),
                "Invalid session data",
                status_code=400,
                pk=data["session_template_id"],
            )
        session = services.session_update(session=session, **fields)
        return _session_response(session, patch=True)


class SharedSessionView(HeatView):
    @extend_schema(request=io.SharedSessionInput, responses={200: io.SessionOutput, 201: io.SessionOutput})
    def post(self, request, project_id: int):
        project = get_or_404(Project.objects.all(), "Project not found", pk=project_id)
        data = self.parse(io.SharedSessionInput, request.data, "Invalid shared session request.")
        template = get_or_404(
            SessionTemplate.objects.all(), "Session template not found", pk=data["session_template_id"]
        )
        session, created = services.shared_session_create_or_join(
            user=request.user,
            project=project,
            session_template=template,
            name=data["name"],
            simulation_name=data["simulation_name"],
            email=data["email"],
            start_time_utc=data["start_time_utc"],
            machine_group=data["machine_group"],
            time_window_seconds=data["time_window_seconds"],
        )
        return _session_response(session, status_code=201 if created else 200)


class SessionCloseView(HeatView):
    @extend_schema(request=io.CloseSessionInput, responses=io.SessionOutput)
    def post(self, request, session_id):
        session = get_or_404(Session.objects.all(), "Session not found", pk=session_id)
        data = self.parse(io.CloseSessionInput, request.data, "Invalid close request.")
        session = services.session_close(
            session=session, email=data["email"], reason=data["reason"], close_at=data["close_at"]
        )
        return _session_response(session)


# --- Node outputs -----------------------------------------------------------------------------


def _body_chunks(request, chunk_size: int):
    """The upload's bytes in chunks: the one file of a multipart body, or the raw body."""
    if request.content_type.startswith("multipart/form-data"):
        files = list(request.FILES.values())
        if len(files) != 1:
            raise RequestError(400, "Send exactly one file in the multipart body.")
        upload = files[0]
        return upload.chunks(chunk_size), upload.content_type or "", upload.name or ""
    raw = request._request  # the Django request: read it as a stream, never as a whole
    return iter(lambda: raw.read(chunk_size), b""), request.content_type or "", ""


class NodeOutputsView(HeatView):
    # Only a multipart body is parsed (by DRF, on access to request.FILES); a raw body is read
    # as a stream by _body_chunks.
    parser_classes = [MultiPartParser]

    @extend_schema(responses=io.NodeOutputOutput(many=True))
    def get(self, request, node_instance_id: int):
        node = get_or_404(selectors.node_instances(), "Node instance not found", pk=node_instance_id)
        return Response(io.NodeOutputOutput(selectors.node_outputs(node), many=True).data)

    @extend_schema(
        request={"application/octet-stream": {"type": "string", "format": "binary"}},
        responses={201: io.NodeOutputOutput},
    )
    def post(self, request, node_instance_id: int):
        node = get_or_404(selectors.node_instances(), "Node instance not found", pk=node_instance_id)
        services.node_data_source(node)  # a node without a data source is a 400 before any byte is read
        length = request.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > settings.HEAT_MAX_UPLOAD_BYTES:
            raise RequestError(413, f"Upload larger than {settings.HEAT_MAX_UPLOAD_BYTES} bytes.")
        chunks, content_type, filename = _body_chunks(request, settings.HEAT_UPLOAD_CHUNK_BYTES)
        output = services.node_output_create(
            node_instance=node, chunks=chunks, content_type=content_type, filename=filename
        )
        output = NodeOutput.objects.select_related("data_source").get(pk=output.pk)
        return Response(io.NodeOutputOutput(output).data, status=201)


class NodeOutputDataView(HeatView):
    # Served with the content type it was uploaded with (application/octet-stream if none).
    @extend_schema(responses={(200, "*/*"): {"type": "string", "format": "binary"}})
    def get(self, request, output_id: int):
        output = get_or_404(NodeOutput.objects.all(), "Node output not found", pk=output_id)
        response = StreamingHttpResponse(
            stream_stored_file(output.data_path, settings.HEAT_UPLOAD_CHUNK_BYTES),
            content_type=output.content_type or "application/octet-stream",
        )
        response["Content-Length"] = str(output.size)
        filename = output.filename or f"node-output-{output.pk}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


# --- Scenario instances -----------------------------------------------------------------------


class ScenarioInstancesView(HeatView):
    @extend_schema(request=io.ScenarioInstanceCreate, responses=io.ScenarioInstanceResult)
    def post(self, request, session_id):
        session = get_or_404(Session.objects.all(), "SessionId not found.", pk=session_id)
        data = self.parse(io.ScenarioInstanceInput, request.data, "Invalid request.")
        instance = services.scenario_instance_create(
            session=session,
            scenario_name=data["scenario_name"],
            simulation_id=data["simulation_id"],
            scenario_instance_id=data["scenario_instance_id"],
            start=data["from"],
            end=data["to"],
        )
        return Response(
            {
                "status": True,
                "message": "Scenario instance retrieved successfully",
                "template": io.ScenarioInstanceOutput(instance).data,
            }
        )


# --- Platform configuration -------------------------------------------------------------------


class ConfigAllView(HeatView):
    permission_classes = [permissions.IsAuthenticated, IsAdmin]

    @extend_schema(responses={200: {"type": "object", "additionalProperties": {"type": "object"}}})
    def get(self, request):
        return Response(selectors.config_all_grouped())


class ConfigView(HeatView):
    def get_permissions(self):
        if self.request.method == "POST":
            return [permissions.IsAuthenticated(), IsAdmin()]
        return super().get_permissions()

    @extend_schema(
        parameters=[OpenApiParameter("prefix", {"type": "string", "minLength": 1}, required=True)],
        responses={200: {"type": "object", "additionalProperties": {}}},
    )
    def get(self, request):
        prefix = request.query_params.get("prefix", "")
        if not prefix:
            raise RequestError(400, "Query parameter 'prefix' is required.")
        return Response(selectors.config_by_prefix(user=request.user, prefix=prefix))

    @extend_schema(request=io.ConfigCreate, responses={201: io.ConfigOutput, **error_responses(409)})
    def post(self, request):
        data = self.parse(io.ConfigInput, request.data, "Invalid configuration name")
        config = services.config_create(
            name=data["name"],
            value_type=data["value_type"],
            value=services.config_text(data["value"]),
            description=data["description"],
        )
        return Response(io.ConfigOutput(config).data, status=201)


class ConfigDetailView(HeatView):
    permission_classes = [permissions.IsAuthenticated, IsAdmin]

    @extend_schema(request=io.ConfigUpdate, responses={200: io.ConfigOutput, **error_responses(409)})
    def put(self, request, name: str):
        config = get_or_404(PlatformConfiguration.objects.all(), "Configuration not found", name=name)
        body = snake_keys(request.data)
        data = self.parse(
            io.ConfigInput,
            {"name": name, **body} if isinstance(body, dict) else body,
            "Invalid configuration name.",
        )
        config = services.config_update(
            config=config,
            name=data["name"],
            value_type=data["value_type"],
            value=services.config_text(data["value"]),
            description=data["description"],
        )
        return Response(io.ConfigOutput(config).data)
