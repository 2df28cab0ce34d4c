import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class SessionTemplate(models.Model):
    """A node graph that sessions are instantiated from."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    # A JSON document kept as text: the documents return it as a string ("{}").
    configuration = models.TextField(default="{}", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class NodeTemplate(models.Model):
    """One node of a template's graph. Input nodes receive uploads; their configuration names
    the data source (``{"dataSourceName": "raw"}``)."""

    INPUT_TYPE = "InputNode"

    session_template = models.ForeignKey(SessionTemplate, on_delete=models.CASCADE, related_name="nodes")
    key = models.SlugField(max_length=100, help_text="Unique within the template; edges refer to it.")
    type = models.CharField(max_length=100, help_text='"InputNode" for nodes that receive uploads.')
    label = models.CharField(max_length=200)
    configuration = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)
    inputs = models.ManyToManyField("self", symmetrical=False, related_name="outputs", blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session_template", "key"], name="node_key_unique_in_template"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.type})"


class DataSource(models.Model):
    """Where a node's uploads are stored: a folder of the storage backend."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def new_hex_id() -> str:
    return secrets.token_hex(4)


class Project(models.Model):
    hex_id = models.CharField(max_length=8, unique=True, default=new_hex_id, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    icon = models.CharField(max_length=500, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="projects")
    default_session_template = models.ForeignKey(
        SessionTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class Session(models.Model):
    """A run of a template in a project. Shared sessions are joined by many simulators."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="sessions")
    session_template = models.ForeignKey(SessionTemplate, on_delete=models.PROTECT, related_name="sessions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="heat_sessions"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    simulation_name = models.CharField(max_length=200, blank=True, null=True)  # noqa: DJ001 (null on the wire)
    metadata = models.JSONField(null=True, blank=True)
    logo_url = models.CharField(max_length=500, blank=True, null=True)  # noqa: DJ001 (null on the wire)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Shared sessions
    is_shared = models.BooleanField(default=False)
    machine_group = models.IntegerField(null=True, blank=True)
    start_time_utc = models.DateTimeField(null=True, blank=True)
    time_window_seconds = models.PositiveIntegerField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=500, blank=True)
    closed_by_email = models.EmailField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["project", "simulation_name", "session_template", "machine_group", "start_time_utc"],
                condition=Q(is_shared=True, closed_at__isnull=True),
                name="open_shared_session_lookup",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_shared=False) | Q(start_time_utc__isnull=False, machine_group__isnull=False),
                name="shared_session_has_start_and_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class NodeInstance(models.Model):
    """A node of a session, instantiated from its template's node."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="node_instances")
    node_template = models.ForeignKey(NodeTemplate, on_delete=models.PROTECT, related_name="instances")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=100)
    configuration = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class NodeOutput(models.Model):
    """Bytes uploaded to a node instance, as stored in the storage backend."""

    node_instance = models.ForeignKey(NodeInstance, on_delete=models.CASCADE, related_name="outputs")
    data_source = models.ForeignKey(DataSource, on_delete=models.PROTECT, related_name="outputs")
    output_identifier = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    data_path = models.CharField(max_length=500, unique=True)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=200, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    configuration = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=0), name="node_output_size_not_negative"),
        ]

    def __str__(self) -> str:
        return self.data_path


class ScenarioInstance(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="scenario_instances")
    simulation_id = models.CharField(max_length=200, blank=True)
    scenario_name = models.CharField(max_length=200)
    scenario_instance_id = models.CharField(max_length=200, blank=True)
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.scenario_name


class ConfigValueType(models.IntegerChoices):
    """``PlatformConfiguration.ValueType``, at module level for the model's constraints."""

    STRING = 0
    BOOLEAN = 1
    INTEGER = 2
    FLOAT = 3
    JSON = 4


class PlatformConfiguration(models.Model):
    """A named setting; names are hierarchical with ``:`` separators."""

    ValueType = ConfigValueType

    name = models.CharField(max_length=300, unique=True)
    value_type = models.PositiveSmallIntegerField(choices=ValueType.choices, default=ValueType.STRING)
    value = models.TextField(blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(value_type__in=ConfigValueType.values), name="config_value_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_private(self) -> bool:
        """Names under ``private:`` hold secrets: pages mask their values until an Admin reveals one."""
        return self.is_private_name(self.name)

    @staticmethod
    def is_private_name(name: str) -> bool:
        """Any case of the prefix (the history of changes asks too: heatportal/audit.py)."""
        return name.lower().startswith("private:")
