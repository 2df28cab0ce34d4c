"""Writes of the HEAT v2 API: projects, sessions, node outputs, scenario instances, configuration."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from heatportal.accounts.models import User
from heatportal.files import stored_file_delete
from heatportal.services import Conflict, ServiceError
from sessions_app.configuration import config_validate
from sessions_app.models import (
    NodeInstance,
    NodeOutput,
    PlatformConfiguration,
    Project,
    ScenarioInstance,
    Session,
    SessionTemplate,
)
from sessions_app.selectors import node_instance_data_source
from sessions_app.uploads import CountingReader, StreamFile

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


def _lock_shared_session_key(
    project: Project, simulation_name: str, template: SessionTemplate, group: int
) -> None:
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
    data_source = node_instance_data_source(node_instance=node_instance)
    identifier = uuid.uuid4()
    name = f"node-outputs/{data_source.name}/{node_instance.session_id}/{node_instance.pk}/{identifier}"
    reader = CountingReader(chunks, settings.HEAT_MAX_UPLOAD_BYTES)
    stored_name = None
    try:
        upload = StreamFile(reader, settings.HEAT_UPLOAD_CHUNK_BYTES)
        # Stub gap: django-stubs types Storage.save's content as IO; Django reads only chunks().
        stored_name = default_storage.save(name, upload)  # type: ignore[arg-type]
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


def config_create(*, name: str, value_type: int, value: str, description: str = "") -> PlatformConfiguration:
    value = config_validate(name=name, value_type=value_type, value=value)
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
    value = config_validate(name=name, value_type=value_type, value=value)
    config.name, config.value_type, config.value, config.description = name, value_type, value, description
    try:
        with transaction.atomic():
            config.save()
    except IntegrityError as error:
        raise Conflict("Configuration with the same name already exists.") from error
    return config


def config_delete(*, config: PlatformConfiguration) -> None:
    config.delete()
