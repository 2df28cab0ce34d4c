"""Reads of the HEAT v2 API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from heatportal.accounts.models import User
from sessions_app.models import (
    NodeInstance,
    NodeOutput,
    NodeTemplate,
    PlatformConfiguration,
    Project,
    Session,
    SessionTemplate,
)
from sessions_app.services import config_value


def session_templates() -> QuerySet[SessionTemplate]:
    return SessionTemplate.objects.prefetch_related(
        Prefetch("nodes", queryset=NodeTemplate.objects.prefetch_related("inputs"))
    ).order_by("id")


def projects() -> QuerySet[Project]:
    return (
        Project.objects.select_related("owner")
        .prefetch_related(Prefetch("default_session_template", queryset=session_templates()))
        .order_by("id")
    )


def sessions() -> QuerySet[Session]:
    return Session.objects.select_related("project__owner", "user").prefetch_related(
        Prefetch("session_template", queryset=session_templates()),
        Prefetch("project__default_session_template", queryset=session_templates()),
        Prefetch("node_instances", queryset=NodeInstance.objects.order_by("id")),
        "scenario_instances",
    )


def default_ingestion_node(session: Session) -> NodeInstance | None:
    """The first input node of the session (its uploads' usual target)."""
    return next((node for node in session.node_instances.all() if node.type == NodeTemplate.INPUT_TYPE), None)


def node_instances() -> QuerySet[NodeInstance]:
    return NodeInstance.objects.select_related("session")


def node_outputs(node_instance: NodeInstance) -> QuerySet[NodeOutput]:
    return node_instance.outputs.select_related("data_source").order_by("created_at", "id")


def config_readable_by(user: User, name: str) -> bool:
    if user.role == User.Role.ADMIN:
        return True
    return any(name == prefix or name.startswith(prefix + ":") for prefix in settings.PUBLIC_CONFIG_PREFIXES)


def config_by_prefix(*, user: User, prefix: str) -> dict[str, Any]:
    """``{name: typed value}`` of the names equal to or starting with ``prefix`` that ``user``
    may read."""
    rows = PlatformConfiguration.objects.filter(name__startswith=prefix).order_by("name")
    return {
        row.name: config_value(row.value_type, row.value)
        for row in rows
        if config_readable_by(user, row.name)
    }


def config_all_grouped() -> dict[str, dict[str, Any]]:
    """Every configuration, grouped by the first segment of its name (document 000, §11)."""
    grouped: dict[str, dict[str, Any]] = {}
    for row in PlatformConfiguration.objects.order_by("name"):
        head, _, rest = row.name.partition(":")
        grouped.setdefault(head, {})[rest or head] = config_value(row.value_type, row.value)
    return grouped
