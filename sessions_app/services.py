"""Writes of the HEAT v2 API: projects, sessions, node outputs, scenario instances, configuration."""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from heatportal.accounts.models import User
from heatportal.api.input import parse_json, text_problem
from heatportal.files import stored_file_delete
from heatportal.services import Conflict, ServiceError, TooLarge
from sessions_app.models import (
    DataSource,
    NodeInstance,
    NodeOutput,
    PlatformConfiguration,
    Project,
    ScenarioInstance,
    Session,
    SessionTemplate,
)

# --- Projects ---------------------------------------------------------------------------------


def project_create(
    *,
    owner: User,
    title: str,
    description: str = "",
    icon: str = "",
    default_session_template: SessionTemplate | None = None,
) -> Project:
    return Project.objects.create(
        owner=owner,
        title=title,
        description=description,
        icon=icon,
        default_session_template=default_session_template,
    )


def project_update(*, project: Project, **fields: Any) -> Project:
    for name, value in fields.items():
        setattr(project, name, value)
    project.save()
    return project


# --- Sessions ---------------------------------------------------------------------------------


def _instantiate_nodes(session: Session) -> None:
    nodes = list(session.session_template.nodes.all())
    NodeInstance.objects.bulk_create(
        NodeInstance(
            session=session,
            node_template=node,
            name=node.label,
            type=node.type,
            configuration=node.configuration,
        )
        for node in nodes
    )


@transaction.atomic
def session_create(
    *,
    user: User,
    project: Project,
    session_template: SessionTemplate | None,
    name: str,
    email: str = "",
    simulation_name: str | None = None,
    metadata: Any = None,
    **shared: Any,
) -> Session:
    """Create a session and one node instance per node of its template.

    Without a template the project's default is used; with neither it is a 400.
    """
    template = session_template or project.default_session_template
    if template is None:
        raise ServiceError("Invalid session request. ProjectId and TemplateId are required.")
    session = Session.objects.create(
        user=user,
        project=project,
        session_template=template,
        name=name,
        email=email,
        simulation_name=simulation_name,
        metadata=metadata,
        **shared,
    )
    _instantiate_nodes(session)
    return session


@transaction.atomic
def session_update(*, session: Session, **fields: Any) -> Session:
    """Partial update. A new template re-instantiates the nodes only if none has outputs."""
    new_template = fields.get("session_template")
    template_changes = new_template is not None and new_template.pk != session.session_template_id
    if template_changes and NodeOutput.objects.filter(node_instance__session=session).exists():
        raise ServiceError("Invalid session data: the session already has uploaded outputs.")
    for name, value in fields.items():
        setattr(session, name, value)
    session.save()
    if template_changes:
        session.node_instances.all().delete()
        _instantiate_nodes(session)
    return session


def _lock_shared_session_key(project: Project, simulation_name: str, template: SessionTemplate, group: int):
    """Serialise create-or-join calls for one shared-session key until the transaction ends.

    PostgreSQL: a transaction-level advisory lock on a hash of the key. SQLite: transactions
    take the database write lock when they begin (IMMEDIATE mode), which serialises them already.
    """
    if connection.vendor != "postgresql":
        return
    key = f"shared-session:{project.pk}:{template.pk}:{group}:{simulation_name}"
    lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def _shifted(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta``, held at the first or last representable time (a start of 0001-01-01
    or 9999-12-31 is valid; its window just ends there)."""
    try:
        return moment + delta
    except OverflowError:
        return (datetime.min if delta < timedelta(0) else datetime.max).replace(tzinfo=moment.tzinfo)


@transaction.atomic
def shared_session_create_or_join(
    *,
    user: User,
    project: Project,
    session_template: SessionTemplate,
    name: str,
    simulation_name: str,
    email: str,
    start_time_utc: datetime,
    machine_group: int,
    time_window_seconds: int = 300,
) -> tuple[Session, bool]:
    """Join the open shared session whose start lies within the window of ``start_time_utc``,
    or create one. Returns the session and whether it was created."""
    _lock_shared_session_key(project, simulation_name, session_template, machine_group)
    window = timedelta(seconds=time_window_seconds)
    candidates = Session.objects.filter(
        is_shared=True,
        closed_at__isnull=True,
        project=project,
        session_template=session_template,
        simulation_name=simulation_name,
        machine_group=machine_group,
        start_time_utc__gte=_shifted(start_time_utc, -window),
        start_time_utc__lte=_shifted(start_time_utc, window),
    ).order_by("start_time_utc", "created_at")
    existing = candidates.first()
    if existing is not None:
        return existing, False
    session = session_create(
        user=user,
        project=project,
        session_template=session_template,
        name=name,
        email=email,
        simulation_name=simulation_name,
        is_shared=True,
        start_time_utc=start_time_utc,
        machine_group=machine_group,
        time_window_seconds=time_window_seconds,
    )
    return session, True


def session_close(*, session: Session, email: str, reason: str, close_at: datetime | None) -> Session:
    """Close a session; closing it again keeps the first closing."""
    if session.closed_at is None:
        session.closed_at = close_at or timezone.now()
        session.closed_by_email = email
        session.close_reason = reason
        session.save(update_fields=["closed_at", "closed_by_email", "close_reason", "updated_at"])
    return session


# --- Node outputs -----------------------------------------------------------------------------


class _CountingReader:
    """A file-like view of a chunk iterator that hashes and counts what passes through, and
    stops with TooLarge once more than ``limit`` bytes have come."""

    def __init__(self, chunks: Iterator[bytes], limit: int):
        self._chunks = chunks
        self._buffer = b""
        self._limit = limit
        self.size = 0
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self.size += len(chunk)
            if self.size > self._limit:
                raise TooLarge(f"Upload larger than {self._limit} bytes.")
            self.sha256.update(chunk)
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def node_data_source(node_instance: NodeInstance) -> DataSource:
    name = (node_instance.configuration or {}).get("dataSourceName")
    if not name:
        raise ServiceError("Invalid node configuration: the node has no dataSourceName.")
    try:
        return DataSource.objects.get(name=name)
    except DataSource.DoesNotExist as error:
        raise ServiceError(f"Invalid node configuration: unknown data source '{name}'.") from error


def node_output_create(
    *,
    node_instance: NodeInstance,
    chunks: Iterator[bytes],
    content_type: str = "",
    filename: str = "",
) -> NodeOutput:
    """Stream ``chunks`` to the storage backend and record the output.

    Nothing is left behind on failure: a partial file is deleted, and the row is written only
    once the file is complete.
    """
    data_source = node_data_source(node_instance)
    identifier = uuid.uuid4()
    name = f"node-outputs/{data_source.name}/{node_instance.session_id}/{node_instance.pk}/{identifier}"
    reader = _CountingReader(chunks, settings.HEAT_MAX_UPLOAD_BYTES)
    stored_name = None
    try:
        stored_name = default_storage.save(name, _StreamFile(reader, settings.HEAT_UPLOAD_CHUNK_BYTES))
        with transaction.atomic():
            return NodeOutput.objects.create(
                node_instance=node_instance,
                data_source=data_source,
                output_identifier=identifier,
                data_path=stored_name,
                size=reader.size,
                sha256=reader.sha256.hexdigest(),
                content_type=content_type[:200],
                filename=filename[:255],
                configuration=node_instance.configuration,
            )
    except BaseException:
        stored_file_delete(stored_name or name)
        raise


class _StreamFile:
    """The smallest file object that Django storages accept: ``chunks()`` and ``read()``."""

    def __init__(self, reader: _CountingReader, chunk_size: int):
        self._reader = reader
        self._chunk_size = chunk_size
        self.name = None
        self.size = None

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        while chunk := self._reader.read(chunk_size or self._chunk_size):
            yield chunk

    def read(self, size: int = -1) -> bytes:
        return self._reader.read(size)

    def close(self) -> None:
        pass


# --- Scenario instances -----------------------------------------------------------------------


def scenario_instance_create(
    *,
    session: Session,
    scenario_name: str,
    simulation_id: str = "",
    scenario_instance_id: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
) -> ScenarioInstance:
    if not scenario_name:
        raise ServiceError("Invalid request. Scenarion name is required.")
    return ScenarioInstance.objects.create(
        session=session,
        scenario_name=scenario_name,
        simulation_id=simulation_id,
        scenario_instance_id=scenario_instance_id,
        start=start,
        end=end,
    )


# --- Platform configuration -------------------------------------------------------------------


@dataclass(frozen=True)
class _Parser:
    label: str
    parse: Any


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError(text)


def _parse_finite(text: str) -> float:
    value = float(text.strip())
    if not math.isfinite(value):  # NaN and infinities have no JSON form: no client could read them
        raise ValueError(text)
    return value


_PARSERS = {
    PlatformConfiguration.ValueType.STRING: _Parser("a string", str),
    PlatformConfiguration.ValueType.BOOLEAN: _Parser("a boolean", _parse_bool),
    PlatformConfiguration.ValueType.INTEGER: _Parser("an integer", lambda text: int(text.strip())),
    PlatformConfiguration.ValueType.FLOAT: _Parser("a finite number", _parse_finite),
    PlatformConfiguration.ValueType.JSON: _Parser("JSON", parse_json),
}


def config_value(value_type: int, text: str) -> Any:
    """The typed value of a stored configuration text, or ServiceError if it does not parse."""
    parser = _PARSERS[PlatformConfiguration.ValueType(value_type)]
    try:
        return parser.parse(text)
    except (ValueError, TypeError) as error:  # BadInput is a ValueError
        shown = text[:100].encode("unicode_escape").decode("ascii") if text_problem(text) else text[:100]
        raise ServiceError(f"Invalid configuration value: '{shown}' is not {parser.label}.") from error


def config_text(value: Any) -> str:
    """How a value sent by a client is stored: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


BOOLEAN_TEXTS = ("true", "false")


def config_value_normalise(value_type: int, text: str) -> str:
    """The text to store for a value written by a client (API, page or admin alike), or
    ServiceError. Booleans accept only ``true`` and ``false``, in any case, and are stored in
    lowercase; the other types are stored as sent once they parse. (Reading stays lenient with
    ``1``/``0``/``yes``/``no``, which rows written before this rule may hold.)"""
    if value_type == PlatformConfiguration.ValueType.BOOLEAN:
        canonical = text.strip().lower()
        if canonical not in BOOLEAN_TEXTS:
            shown = text[:100].encode("unicode_escape").decode("ascii") if text_problem(text) else text[:100]
            raise ServiceError(f"Invalid configuration value: '{shown}' is not a boolean: use true or false.")
        return canonical
    config_value(value_type, text)
    return text


def _validate_config(*, name: str, value_type: int, value: str) -> str:
    """Checks a configuration entry; returns the value to store."""
    if not name or name != name.strip() or any(not part for part in name.split(":")):
        raise ServiceError("Invalid configuration name")
    if value_type not in PlatformConfiguration.ValueType.values:
        raise ServiceError(
            "Invalid configuration value type: use 0 string, 1 boolean, 2 integer, 3 float, 4 JSON."
        )
    return config_value_normalise(value_type, value)


def config_create(*, name: str, value_type: int, value: str, description: str = "") -> PlatformConfiguration:
    value = _validate_config(name=name, value_type=value_type, value=value)
    try:
        with transaction.atomic():
            return PlatformConfiguration.objects.create(
                name=name, value_type=value_type, value=value, description=description
            )
    except IntegrityError as error:
        raise Conflict("Configuration with the same name already exists.") from error


def config_update(
    *, config: PlatformConfiguration, name: str, value_type: int, value: str, description: str
) -> PlatformConfiguration:
    value = _validate_config(name=name, value_type=value_type, value=value)
    config.name, config.value_type, config.value, config.description = name, value_type, value, description
    try:
        with transaction.atomic():
            config.save()
    except IntegrityError as error:
        raise Conflict("Configuration with the same name already exists.") from error
    return config


def config_delete(*, config: PlatformConfiguration) -> None:
    config.delete()
