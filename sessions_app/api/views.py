"""HEAT v2 API views: validate the body (``inputs``), call a selector or service, build the
answer (``outputs``). ``schema`` describes the bodies for the OpenAPI document only."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers

from heatportal import permissions as access
from heatportal.accounts.authentication import BearerTokenAuthentication
from heatportal.accounts.models import User
from heatportal.api.heat import HeatApiView
from heatportal.api.rendering import render
from heatportal.api.schema import error_responses
from heatportal.files import stream_stored_file
from heatportal.health import database_health
from heatportal.services import ServiceError, TooLarge
from sessions_app import selectors, services
from sessions_app.api import inputs, outputs
from sessions_app.api import schema as docs
from sessions_app.configuration import config_text
from sessions_app.models import NodeOutput, PlatformConfiguration, Project, Session, SessionTemplate


class Allowed(permissions.BasePermission):
    """DRF's form of one action of heatportal.permissions (the schema and ApiView read it)."""

    action = ""

    def has_permission(self, request, view):
        return access.allowed(request.user, self.action)


class MayConfigure(Allowed):
    action = "v2.configure"


class MayAuthor(Allowed):
    action = "v2.author"


class HeatView(HeatApiView):
    """Base of the v2 views: HEAT Auth bearer tokens, the v2 error body."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    path_examples = {"project_id": 1, "node_instance_id": 1, "output_id": 1}  # seed_demo's first rows


def get_or_404(queryset: QuerySet, message: str, *, status_code: int = 404, **lookup):
    """The row, or an error (404 unless told otherwise) with the documented message."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as error:
        raise ServiceError(message, status=status_code) from error


def session_or_404(session_id: Any, message: str = "Session not found") -> selectors.SessionDocument:
    try:
        return selectors.session_document_get(session_id=session_id)
    except Session.DoesNotExist as error:
        raise ServiceError(message, status=404) from error


# --- Health -----------------------------------------------------------------------------------

UNAVAILABLE = {"status": "error", "message": "Service unavailable. Please try again later."}


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
        if not database_health().ok:
            return render(UNAVAILABLE, status=503)
        return {"status": "ok"}


# --- Templates, user data ---------------------------------------------------------------------


class SessionTemplatesView(HeatView):
    @extend_schema(responses=docs.SessionTemplateOutput(many=True))
    def get(self, request):
        return [outputs.session_template(template) for template in selectors.session_template_list()]


class UserDataView(HeatView):
    @extend_schema(responses=docs.UserDataOutput)
    def get(self, request):
        return outputs.user_data(request.user)


# --- Projects ---------------------------------------------------------------------------------


def _project_fields(data: inputs.ProjectInput, *, default_owner: User | None) -> dict:
    fields: dict[str, Any] = {"title": data.title, "description": data.description, "icon": data.icon}
    if data.owner_id is not None:
        fields["owner"] = get_or_404(
            User.objects.all(), "Invalid project data.", status_code=400, pk=data.owner_id
        )
    elif default_owner is not None:
        fields["owner"] = default_owner
    if "default_session_template_id" in data.model_fields_set:
        template_id = data.default_session_template_id
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
            return [permissions.IsAuthenticated(), MayAuthor()]
        return super().get_permissions()

    @extend_schema(responses=docs.ProjectOutput(many=True))
    def get(self, request):
        return [outputs.project(project) for project in selectors.project_list()]

    @extend_schema(request=docs.ProjectInput, responses={201: docs.ProjectOutput})
    def post(self, request):
        data = self.parse(inputs.ProjectInput, "Invalid project data.")
        project = services.project_create(**_project_fields(data, default_owner=request.user))
        return render(outputs.project(selectors.project_list().get(pk=project.pk)), status=201)


class ProjectDetailView(HeatView):
    def get_permissions(self):
        if self.request.method == "PUT":
            return [permissions.IsAuthenticated(), MayAuthor()]
        return super().get_permissions()

    @extend_schema(responses=docs.ProjectOutput)
    def get(self, request, project_id: int):
        return outputs.project(get_or_404(selectors.project_list(), "Project not found", pk=project_id))

    @extend_schema(request=docs.ProjectInput, responses=docs.ProjectOutput)
    def put(self, request, project_id: int):
        project = get_or_404(Project.objects.all(), "Project not found.", pk=project_id)
        data = self.parse(inputs.ProjectInput, "Invalid project data.")
        services.project_update(project=project, **_project_fields(data, default_owner=None))
        return outputs.project(selectors.project_list().get(pk=project.pk))


# --- Sessions ---------------------------------------------------------------------------------


class SessionCreateView(HeatView):
    """``POST /session``, ``POST /sessions`` and ``POST /projects/{projectId}/sessions``."""

    @extend_schema(request=docs.SessionInput, responses={201: docs.SessionOutput, **error_responses(404)})
    def post(self, request, project_id: int | None = None):
        data = self.parse(inputs.SessionInput, "Invalid session request.")
        project_id = project_id if project_id is not None else data.project_id
        if project_id is None:
            raise ServiceError("Invalid session request. ProjectId and TemplateId are required.")
        project = get_or_404(
            Project.objects.select_related("default_session_template"), "Project not found", pk=project_id
        )
        template = None
        if data.session_template_id is not None:
            template = get_or_404(
                SessionTemplate.objects.all(), "Session template not found", pk=data.session_template_id
            )
        session = services.session_create(
            user=request.user,
            project=project,
            session_template=template,
            name=data.name,
            email=data.email,
            simulation_name=data.simulation_name,
            metadata=data.metadata,
        )
        return render(outputs.session(selectors.session_document_get(session_id=session.pk)), status=201)


class SessionDetailView(HeatView):
    @extend_schema(responses=docs.SessionOutput)
    def get(self, request, session_id):
        return outputs.session(session_or_404(session_id))

    @extend_schema(request=docs.SessionPatchInput, responses=docs.SessionPatchOutput)
    def patch(self, request, session_id):
        session = get_or_404(Session.objects.all(), "Session not found", pk=session_id)
        data = self.parse(inputs.SessionPatchInput, "Invalid session data")
        sent = data.model_fields_set
        fields = {
            key: getattr(data, key) for key in ("name", "email", "simulation_name", "metadata") if key in sent
        }
        if "project_id" in sent:
            fields["project"] = get_or_404(
                Project.objects.all(), "Invalid session data", status_code=400, pk=data.project_id
            )
        if "session_template_id" in sent:
            fields["session_template"] = get_or_404(
                SessionTemplate.objects.all(),
                "Invalid session data",
                status_code=400,
                pk=data.session_template_id,
            )
        session = services.session_update(session=session, **fields)
        return outputs.session_patch(selectors.session_document_get(session_id=session.pk))


class SharedSessionView(HeatView):
    @extend_schema(
        request=docs.SharedSessionInput, responses={200: docs.SessionOutput, 201: docs.SessionOutput}
    )
    def post(self, request, project_id: int):
        project = get_or_404(Project.objects.all(), "Project not found", pk=project_id)
        data = self.parse(inputs.SharedSessionInput, "Invalid shared session request.")
        template = get_or_404(
            SessionTemplate.objects.all(), "Session template not found", pk=data.session_template_id
        )
        session, created = services.shared_session_create_or_join(
            user=request.user,
            project=project,
            session_template=template,
            name=data.name,
            simulation_name=data.simulation_name,
            email=data.email,
            start_time_utc=data.start_time_utc,
            machine_group=data.machine_group,
            time_window_seconds=data.time_window_seconds,
        )
        document = selectors.session_document_get(session_id=session.pk)
        return render(outputs.session(document), status=201 if created else 200)


class SessionCloseView(HeatView):
    @extend_schema(request=docs.CloseSessionInput, responses=docs.SessionOutput)
    def post(self, request, session_id):
        session = get_or_404(Session.objects.all(), "Session not found", pk=session_id)
        data = self.parse(inputs.CloseSessionInput, "Invalid close request.")
        session = services.session_close(
            session=session, email=data.email, reason=data.reason, close_at=data.close_at
        )
        return outputs.session(selectors.session_document_get(session_id=session.pk))


# --- Node outputs -----------------------------------------------------------------------------


def _body_chunks(request, chunk_size: int):
    """The upload's bytes in chunks: the one file of a multipart body, or the raw body read as
    a stream (never as a whole: uploads may be far larger than memory should hold)."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("multipart/form-data"):
        files = list(request.FILES.values())  # Django's upload handlers: large files go to disk
        if len(files) != 1:
            raise ServiceError("Send exactly one file in the multipart body.")
        upload = files[0]
        return upload.chunks(chunk_size), upload.content_type or "", upload.name or ""
    return iter(lambda: request.read(chunk_size), b""), content_type, ""


class NodeOutputsView(HeatView):
    @extend_schema(responses=docs.NodeOutputOutput(many=True))
    def get(self, request, node_instance_id: int):
        node = get_or_404(selectors.node_instance_list(), "Node instance not found", pk=node_instance_id)
        return [outputs.node_output(output) for output in selectors.node_output_list(node_instance=node)]

    @extend_schema(
        request={"application/octet-stream": {"type": "string", "format": "binary"}},
        responses={201: docs.NodeOutputOutput},
    )
    def post(self, request, node_instance_id: int):
        node = get_or_404(selectors.node_instance_list(), "Node instance not found", pk=node_instance_id)
        # A node without a data source is a 400 before any byte is read.
        selectors.node_instance_data_source(node_instance=node)
        length = request.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > settings.HEAT_MAX_UPLOAD_BYTES:
            raise TooLarge(f"Upload larger than {settings.HEAT_MAX_UPLOAD_BYTES} bytes.")
        chunks, content_type, filename = _body_chunks(request, settings.HEAT_UPLOAD_CHUNK_BYTES)
        output = services.node_output_create(
            node_instance=node, chunks=chunks, content_type=content_type, filename=filename
        )
        output = NodeOutput.objects.select_related("data_source").get(pk=output.pk)
        return render(outputs.node_output(output), status=201)


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
    @extend_schema(request=docs.ScenarioInstanceCreate, responses=docs.ScenarioInstanceResult)
    def post(self, request, session_id):
        session = get_or_404(Session.objects.all(), "SessionId not found.", pk=session_id)
        data = self.parse(inputs.ScenarioInstanceInput, "Invalid request.")
        instance = services.scenario_instance_create(
            session=session,
            scenario_name=data.scenario_name,
            simulation_id=data.simulation_id,
            scenario_instance_id=data.scenario_instance_id,
            start=data.start,
            end=data.end,
        )
        return {
            "status": True,
            "message": "Scenario instance retrieved successfully",
            "template": outputs.scenario_instance(instance),
        }


# --- Platform configuration -------------------------------------------------------------------


class ConfigAllView(HeatView):
    permission_classes = [permissions.IsAuthenticated, MayConfigure]

    @extend_schema(responses={200: {"type": "object", "additionalProperties": {"type": "object"}}})
    def get(self, request):
        return selectors.config_groups()


class ConfigView(HeatView):
    def get_permissions(self):
        if self.request.method == "POST":
            return [permissions.IsAuthenticated(), MayConfigure()]
        return super().get_permissions()

    @extend_schema(
        parameters=[OpenApiParameter("prefix", {"type": "string", "minLength": 1}, required=True)],
        responses={200: {"type": "object", "additionalProperties": {}}},
    )
    def get(self, request):
        prefix = request.GET.get("prefix", "")
        if not prefix:
            raise ServiceError("Query parameter 'prefix' is required.")
        return selectors.config_values(user=request.user, prefix=prefix)

    @extend_schema(request=docs.ConfigCreate, responses={201: docs.ConfigOutput, **error_responses(409)})
    def post(self, request):
        data = self.parse(inputs.ConfigInput, "Invalid configuration name")
        config = services.config_create(
            name=data.name,
            value_type=data.value_type,
            value=config_text(data.value),
            description=data.description,
        )
        return render(outputs.config(config), status=201)


class ConfigDetailView(HeatView):
    permission_classes = [permissions.IsAuthenticated, MayConfigure]

    @extend_schema(request=docs.ConfigUpdate, responses={200: docs.ConfigOutput, **error_responses(409)})
    def put(self, request, name: str):
        config = get_or_404(PlatformConfiguration.objects.all(), "Configuration not found", name=name)
        body = self.data
        # The name is the path's unless the body renames it (in any casing).
        data = self.parse(
            inputs.ConfigInput,
            "Invalid configuration name.",
            {"name": name, **body} if isinstance(body, dict) else body,
        )
        config = services.config_update(
            config=config,
            name=data.name,
            value_type=data.value_type,
            value=config_text(data.value),
            description=data.description,
        )
        return outputs.config(config)
