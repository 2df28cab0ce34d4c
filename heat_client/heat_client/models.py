"""Requests and results of the HEAT v2 API, in Python naming.

Results are parsed from the camelCase JSON the API returns; fields the server leaves out are
None (or empty). Requests serialise to camelCase JSON, datetimes as ISO 8601 UTC with ``Z``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JsonObject = dict[str, Any]


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix. A naive datetime is taken to be UTC already (as
    ``datetime.utcnow()`` returns), not local time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value)


def _parse_uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def _without_none(data: JsonObject) -> JsonObject:
    return {key: value for key, value in data.items() if value is not None}


# --- Requests ---------------------------------------------------------------------------------


@dataclass(kw_only=True)
class CreateSessionRequest:
    """A new session. Without ``session_template_id`` the project's default template is used."""

    name: str
    email: str = ""
    simulation_name: str | None = None
    session_template_id: int | None = None
    metadata: Any = None

    def to_json(self) -> JsonObject:
        return _without_none(
            {
                "name": self.name,
                "email": self.email,
                "simulationName": self.simulation_name,
                "sessionTemplateId": self.session_template_id,
                "metadata": self.metadata,
            }
        )


@dataclass(kw_only=True)
class CreateSharedSessionRequest:
    """Create a shared session, or join the open one of the same project, template, simulation
    name and machine group whose start lies within ``time_window_seconds`` of
    ``start_time_utc``."""

    name: str
    simulation_name: str
    email: str
    session_template_id: int
    start_time_utc: datetime
    machine_group: int
    time_window_seconds: int = 300

    def to_json(self) -> JsonObject:
        return {
            "name": self.name,
            "simulationName": self.simulation_name,
            "email": self.email,
            "sessionTemplateId": self.session_template_id,
            "startTimeUtc": format_datetime(self.start_time_utc),
            "machineGroup": self.machine_group,
            "timeWindowSeconds": self.time_window_seconds,
        }


@dataclass(kw_only=True)
class CloseSessionRequest:
    """Who closes a session, why and when (None: the server's current time)."""

    email: str = ""
    reason: str = ""
    close_at: datetime | None = None

    def to_json(self) -> JsonObject:
        return {
            "email": self.email,
            "reason": self.reason,
            "closeAt": format_datetime(self.close_at) if self.close_at else None,
        }


# --- Results ----------------------------------------------------------------------------------


@dataclass
class NodeTemplateInfo:
    """A node of a session template's graph."""

    id: int
    key: str
    type: str
    label: str
    configuration: JsonObject = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NodeTemplateInfo:
        return cls(
            id=data["id"],
            key=data.get("key", ""),
            type=data.get("type", ""),
            label=data.get("label", ""),
            configuration=data.get("configuration") or {},
        )


@dataclass
class SessionTemplateInfo:
    """A session template. ``configuration`` is a JSON document as text, as the API returns it."""

    id: int
    name: str
    description: str | None = None
    configuration: str | None = None
    nodes: list[NodeTemplateInfo] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SessionTemplateInfo:
        return cls(
            id=data["id"],
            name=data.get("name", ""),
            description=data.get("description"),
            configuration=data.get("configuration"),
            nodes=[NodeTemplateInfo.from_json(node) for node in data.get("nodes") or []],
        )


@dataclass
class ProjectInfo:
    """A project; its ``id`` is the ``project_id`` of session creation."""

    id: int
    hex_id: str | None = None
    title: str = ""
    description: str | None = None
    default_session_template_id: int | None = None
    icon: str | None = None
    owner_id: int | None = None
    created_at: datetime | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProjectInfo:
        return cls(
            id=data["id"],
            hex_id=data.get("hexId"),
            title=data.get("title", ""),
            description=data.get("description"),
            default_session_template_id=data.get("defaultSessionTemplateId"),
            icon=data.get("icon"),
            owner_id=data.get("ownerId"),
            created_at=parse_datetime(data.get("createdAt")),
        )


@dataclass
class NodeInstanceInfo:
    """A node of a session. Upload to it and list its outputs by ``id``."""

    id: int
    name: str
    type: str | None = None
    node_template_id: int | None = None
    configuration: JsonObject = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NodeInstanceInfo:
        return cls(
            id=data["id"],
            name=data.get("name", ""),
            type=data.get("type"),
            node_template_id=data.get("nodeTemplateId"),
            configuration=data.get("configuration") or {},
        )


@dataclass
class SessionInfo:
    """A session with its node instances."""

    id: uuid.UUID
    name: str
    email: str | None = None
    project_id: int | None = None
    session_template_id: int | None = None
    simulation_name: str | None = None
    node_instances: list[NodeInstanceInfo] = field(default_factory=list)
    default_ingestion_node_id: int | None = None
    metadata: Any = None
    user_id: int | None = None
    created_at: datetime | None = None
    is_shared: bool = False
    machine_group: int | None = None
    start_time_utc: datetime | None = None
    closed_at: datetime | None = None

    @property
    def ingestion_node_id(self) -> int | None:
        """Where uploads usually go: the server's default ingestion node (the first input node),
        else the first node instance, else None."""
        if self.default_ingestion_node_id is not None:
            return self.default_ingestion_node_id
        return self.node_instances[0].id if self.node_instances else None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SessionInfo:
        return cls(
            id=uuid.UUID(str(data["id"])),
            name=data.get("name", ""),
            email=data.get("email"),
            project_id=data.get("projectId"),
            session_template_id=data.get("sessionTemplateId"),
            simulation_name=data.get("simulationName"),
            node_instances=[NodeInstanceInfo.from_json(node) for node in data.get("nodeInstances") or []],
            default_ingestion_node_id=data.get("defaultIngestionNodeId"),
            metadata=data.get("metadata"),
            user_id=data.get("userId"),
            created_at=parse_datetime(data.get("createdAt")),
            is_shared=bool(data.get("isShared", False)),
            machine_group=data.get("machineGroup"),
            start_time_utc=parse_datetime(data.get("startTimeUtc")),
            closed_at=parse_datetime(data.get("closedAt")),
        )


@dataclass
class NodeOutputInfo:
    """Data uploaded to a node instance, as HEAT stored it."""

    id: int
    node_instance_id: int
    configuration: JsonObject = field(default_factory=dict)
    created_at: datetime | None = None
    data_source_id: int | None = None
    data_path: str | None = None
    output_identifier: uuid.UUID | None = None
    data_source_name: str | None = None
    size: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    filename: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NodeOutputInfo:
        return cls(
            id=data["id"],
            node_instance_id=data["nodeInstanceId"],
            configuration=data.get("configuration") or {},
            created_at=parse_datetime(data.get("createdAt")),
            data_source_id=data.get("dataSourceId"),
            data_path=data.get("dataPath"),
            output_identifier=_parse_uuid(data.get("outputIdentifier")),
            data_source_name=data.get("dataSourceName"),
            size=data.get("size"),
            sha256=data.get("sha256"),
            content_type=data.get("contentType"),
            filename=data.get("filename"),
        )
