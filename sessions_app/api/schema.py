"""The HEAT v2 API's bodies as the OpenAPI document describes them: documentation only, never
run on a request (bodies are validated by ``inputs.py`` and built by ``outputs.py``; keep the
three in step). Request bodies are given in snake_case; the API takes any casing."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from heatportal.api.fields import StrictCharField
from heatportal.api.input import column_bounds
from sessions_app.models import (
    NodeInstance,
    NodeOutput,
    NodeTemplate,
    PlatformConfiguration,
    Project,
    ScenarioInstance,
    Session,
    SessionTemplate,
)

_MACHINE_GROUP_BOUNDS = column_bounds(Session, "machine_group")

# --- Requests ---------------------------------------------------------------------------------


class ProjectInput(serializers.Serializer):
    title = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True, default="")
    icon = StrictCharField(required=False, allow_blank=True, default="", max_length=500)
    owner_id = serializers.IntegerField(required=False, allow_null=True)
    default_session_template_id = serializers.IntegerField(required=False, allow_null=True)


class SessionInput(serializers.Serializer):
    name = StrictCharField(max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    simulation_name = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=200)
    session_template_id = serializers.IntegerField(required=False, allow_null=True)
    project_id = serializers.IntegerField(required=False, allow_null=True)
    metadata = serializers.JSONField(required=False, allow_null=True)


class SessionPatchInput(serializers.Serializer):
    name = StrictCharField(required=False, max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True)
    simulation_name = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=200)
    session_template_id = serializers.IntegerField(required=False)
    project_id = serializers.IntegerField(required=False)
    metadata = serializers.JSONField(required=False, allow_null=True)


class SharedSessionInput(serializers.Serializer):
    name = StrictCharField(max_length=200)
    simulation_name = StrictCharField(max_length=200)
    email = serializers.EmailField(allow_blank=True)
    session_template_id = serializers.IntegerField()
    start_time_utc = serializers.DateTimeField()
    machine_group = serializers.IntegerField(
        min_value=_MACHINE_GROUP_BOUNDS["min_value"], max_value=_MACHINE_GROUP_BOUNDS["max_value"]
    )
    time_window_seconds = serializers.IntegerField(required=False, default=300, min_value=0, max_value=86400)


class CloseSessionInput(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    reason = StrictCharField(required=False, allow_blank=True, default="", max_length=500)
    close_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ScenarioInstanceCreate(serializers.Serializer):
    """The body of ``POST /{sessionId}/scenario_instances`` (a missing scenario name is refused
    with the document's message)."""

    simulation_id = StrictCharField(required=False, allow_blank=True, max_length=200)
    scenario_name = StrictCharField(max_length=200)
    scenario_instance_id = StrictCharField(required=False, allow_blank=True, max_length=200)
    vars()["from"] = serializers.DateTimeField(required=False, allow_null=True)
    vars()["to"] = serializers.DateTimeField(required=False, allow_null=True)


@extend_schema_field({"type": "integer", "enum": PlatformConfiguration.ValueType.values, "default": 0})
class ConfigValueTypeField(serializers.IntegerField):
    """0 string, 1 boolean, 2 integer, 3 float, 4 JSON."""


CONFIG_NAME_HELP = 'Hierarchical: segments separated by ":", none empty, no space at either end.'


class ConfigCreate(serializers.Serializer):
    """The body of ``POST /config``."""

    name = StrictCharField(max_length=300, help_text=CONFIG_NAME_HELP)
    value_type = ConfigValueTypeField(required=False)
    value = serializers.JSONField(
        required=False, help_text="A value of the type: a string, boolean, number or JSON."
    )
    description = StrictCharField(required=False, allow_blank=True)


class ConfigUpdate(ConfigCreate):
    """``PUT /config/{name}``: the name is the path's unless the body renames it."""

    name = StrictCharField(required=False, max_length=300, help_text=CONFIG_NAME_HELP)


# --- Responses (camelCase) --------------------------------------------------------------------


class NodeTemplateOutput(serializers.ModelSerializer):
    class Meta:
        model = NodeTemplate
        fields = ["id", "key", "type", "label", "configuration"]


class SessionTemplateOutput(serializers.ModelSerializer):
    nodes = NodeTemplateOutput(many=True, read_only=True)
    edges = serializers.SerializerMethodField()

    class Meta:
        model = SessionTemplate
        fields = ["id", "name", "description", "configuration", "nodes", "edges"]

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"from": {"type": "integer"}, "to": {"type": "integer"}},
            },
        }
    )
    def get_edges(self, template: SessionTemplate) -> list[dict]:
        """Each input of each node, as ``{"from": source id, "to": node id}``."""
        raise NotImplementedError  # documentation only: outputs.py builds the body


class OwnerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.CharField(help_text="May be empty.")
    type = serializers.CharField(source="role")
    isActive = serializers.BooleanField(source="is_active")
    createdAt = serializers.DateTimeField(source="date_joined")
    externalB2CId = serializers.CharField(default=None, read_only=True, allow_null=True)
    externalHEATId = serializers.CharField(source="username")
    sessionUsers = serializers.ListField(default=list, read_only=True)
    sessionDimensions = serializers.ListField(default=list, read_only=True)


class ProjectOutput(serializers.ModelSerializer):
    hexId = serializers.CharField(source="hex_id")
    ownerId = serializers.IntegerField(source="owner_id")
    owner = OwnerOutput()
    defaultSessionTemplateId = serializers.IntegerField(source="default_session_template_id", allow_null=True)
    defaultSessionTemplate = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Project
        fields = [
            "id", "hexId", "title", "description", "icon", "ownerId", "owner",
            "defaultSessionTemplateId", "defaultSessionTemplate", "createdAt",
        ]  # fmt: skip

    @extend_schema_field(
        {
            "oneOf": [
                {"$ref": "#/components/schemas/SessionTemplateOutput"},
                {"type": "object", "maxProperties": 0, "description": "No default template"},
            ]
        }
    )
    def get_defaultSessionTemplate(self, project: Project) -> dict:
        """The default template, or ``{}``."""
        raise NotImplementedError  # documentation only: outputs.py builds the body


class NodeInstanceOutput(serializers.ModelSerializer):
    nodeTemplateId = serializers.IntegerField(source="node_template_id")

    class Meta:
        model = NodeInstance
        fields = ["id", "name", "type", "nodeTemplateId", "configuration"]


class ScenarioInstanceOutput(serializers.ModelSerializer):
    simulationId = serializers.CharField(source="simulation_id")
    sessionId = serializers.UUIDField(source="session_id")
    scenarioName = serializers.CharField(source="scenario_name")
    scenarioInstanceId = serializers.CharField(source="scenario_instance_id")
    dimensions = serializers.ListField(default=list, read_only=True)
    createdAt = serializers.DateTimeField(source="created_at")
    # "from" and "to" are Python keywords: declared through the class namespace.
    vars()["from"] = serializers.DateTimeField(source="start", allow_null=True)
    vars()["to"] = serializers.DateTimeField(source="end", allow_null=True)

    class Meta:
        model = ScenarioInstance
        fields = [
            "id",
            "simulationId",
            "sessionId",
            "scenarioName",
            "scenarioInstanceId",
            "dimensions",
            "createdAt",
            "from",
            "to",
        ]


class ScenarioInstanceResult(serializers.Serializer):
    """What ``POST /{sessionId}/scenario_instances`` answers: the document's wrapper."""

    status = serializers.BooleanField()
    message = serializers.CharField()
    template = ScenarioInstanceOutput()


class SessionOutput(serializers.ModelSerializer):
    email = serializers.CharField(help_text="May be empty.")
    projectId = serializers.IntegerField(source="project_id")
    project = ProjectOutput()
    sessionTemplateId = serializers.IntegerField(source="session_template_id")
    sessionTemplate = SessionTemplateOutput(source="session_template")
    simulationName = serializers.CharField(source="simulation_name", allow_null=True)
    scenarios = ScenarioInstanceOutput(source="scenario_instances", many=True)
    dimensions = serializers.ListField(default=list, read_only=True)
    logoUrl = serializers.CharField(source="logo_url", allow_null=True)
    userId = serializers.IntegerField(source="user_id", allow_null=True)
    sessionUsers = serializers.ListField(default=list, read_only=True)
    createdAt = serializers.DateTimeField(source="created_at")
    isShared = serializers.BooleanField(source="is_shared")
    machineGroup = serializers.IntegerField(source="machine_group", allow_null=True)
    startTimeUtc = serializers.DateTimeField(source="start_time_utc", allow_null=True)
    closedAt = serializers.DateTimeField(source="closed_at", allow_null=True)
    nodeInstances = NodeInstanceOutput(source="node_instances", many=True)
    defaultIngestionNodeId = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = [
            "id", "name", "email", "projectId", "project", "sessionTemplateId", "sessionTemplate",
            "simulationName", "scenarios", "dimensions", "logoUrl", "userId", "metadata", "sessionUsers",
            "createdAt", "isShared", "machineGroup", "startTimeUtc", "closedAt", "nodeInstances",
            "defaultIngestionNodeId",
        ]  # fmt: skip

    def get_defaultIngestionNodeId(self, session: Session) -> int | None:
        """The first input node of the session."""
        raise NotImplementedError  # documentation only: outputs.py builds the body


class SessionPatchOutput(serializers.ModelSerializer):
    """The documented snake_case response of ``PATCH /sessions/{id}``."""

    project = serializers.SerializerMethodField()
    session_template = serializers.SerializerMethodField()
    node_instances = serializers.SerializerMethodField()
    default_ingestion_node_id = serializers.SerializerMethodField()
    session_users = serializers.ListField(default=list, read_only=True)
    dimensions = serializers.ListField(default=list, read_only=True)
    scenarios = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = [
            "id", "name", "email", "simulation_name", "project_id", "project", "session_template_id",
            "session_template", "metadata", "logo_url", "node_instances", "default_ingestion_node_id",
            "session_users", "dimensions", "scenarios", "created_at", "closed_at",
        ]  # fmt: skip

    def get_project(self, session: Session) -> dict:
        """The project, without its owner and default template."""
        raise NotImplementedError  # documentation only: outputs.py builds the body

    def get_session_template(self, session: Session) -> dict:
        """The template, without its nodes and edges."""
        raise NotImplementedError  # documentation only: outputs.py builds the body

    def get_node_instances(self, session: Session) -> list[dict]:
        """The node instances."""
        raise NotImplementedError  # documentation only: outputs.py builds the body

    def get_default_ingestion_node_id(self, session: Session) -> int | None:
        """The first input node of the session."""
        raise NotImplementedError  # documentation only: outputs.py builds the body

    def get_scenarios(self, session: Session) -> list[dict]:
        """The scenario instances: id, name and instance id."""
        raise NotImplementedError  # documentation only: outputs.py builds the body


class NodeOutputOutput(serializers.ModelSerializer):
    nodeInstanceId = serializers.IntegerField(source="node_instance_id")
    createdAt = serializers.DateTimeField(source="created_at")
    dataSourceId = serializers.IntegerField(source="data_source_id")
    dataSourceName = serializers.CharField(source="data_source.name")
    dataPath = serializers.CharField(source="data_path")
    outputIdentifier = serializers.UUIDField(source="output_identifier")
    contentType = serializers.CharField(source="content_type")

    class Meta:
        model = NodeOutput
        fields = [
            "id", "nodeInstanceId", "configuration", "createdAt", "dataSourceId", "dataSourceName",
            "dataPath", "outputIdentifier", "size", "sha256", "contentType", "filename",
        ]  # fmt: skip


class ConfigOutput(serializers.ModelSerializer):
    valueType = serializers.IntegerField(source="value_type")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        model = PlatformConfiguration
        fields = ["id", "name", "valueType", "value", "description", "createdAt", "updatedAt"]


class UserDataOutput(serializers.Serializer):
    """PascalCase, exactly the keys of document 000's example (CONTRACT §2)."""

    UserId = serializers.UUIDField(source="uuid", help_text="Stable per user.")
    Username = serializers.CharField(source="username")
    FirstName = serializers.CharField(source="first_name")
    LastName = serializers.CharField(source="last_name")
    Title = serializers.CharField(default="", read_only=True)
    Company = serializers.CharField(default="", read_only=True)
    Email = serializers.CharField(source="email", help_text="May be empty.")
    Role = serializers.CharField(source="role", help_text="Admin, Instructor or Trainee.")
    CreatedAt = serializers.DateTimeField(source="date_joined")
    UpdatedAt = serializers.DateTimeField(source="last_login", allow_null=True)
    ForceChangePasswordNextSignin = serializers.BooleanField(default=False, read_only=True)
    IsRegistrationComplete = serializers.BooleanField(default=True, read_only=True)
    HasAcceptedDataPrivacy = serializers.BooleanField(default=True, read_only=True)
    IsActive = serializers.BooleanField(source="is_active")
