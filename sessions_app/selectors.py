"""Reads of the HEAT v2 API."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet

from heatportal.accounts.models import User
from heatportal.services import ServiceError
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

logger = logging.getLogger(__name__)


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


def config_value_as_read(row: PlatformConfiguration) -> Any:
    """The typed value of a stored configuration; its text as stored when that does not parse as
    its type (a row written before the value check, or by hand), so that one bad row never
    breaks the reading of all the others."""
    try:
        return config_value(row.value_type, row.value)
    except (ServiceError, ValueError):
        logger.warning("configuration %r: stored value is not of its type %s", row.name, row.value_type)
        return row.value


def config_by_prefix(*, user: User, prefix: str) -> dict[str, Any]:
    """``{name: typed value}`` of the names equal to or starting with ``prefix`` that ``user``
    may read."""
    rows = PlatformConfiguration.objects.filter(name__startswith=prefix).order_by("name")
    return {row.name: config_value_as_read(row) for row in rows if config_readable_by(user, row.name)}


def config_all_grouped() -> dict[str, dict[str, Any]]:
    """Every configuration, grouped by the first segment of its name (document 000, §11)."""
    grouped: dict[str, dict[str, Any]] = {}
    for row in PlatformConfiguration.objects.order_by("name"):
        head, _, rest = row.name.partition(":")
        grouped.setdefault(head, {})[rest or head] = config_value_as_read(row)
    return grouped


# --- Portal pages -----------------------------------------------------------------------------


def projects_with_session_counts() -> QuerySet[Project]:
    """Projects for the portal's list, each with ``session_count``."""
    return (
        Project.objects.select_related("owner", "default_session_template")
        .annotate(session_count=Count("sessions"))
        .order_by("id")
    )


def project_sessions(project: Project) -> QuerySet[Session]:
    """A project's sessions, newest first, each with ``node_count``."""
    return (
        Session.objects.filter(project=project)
        .annotate(node_count=Count("node_instances"))
        .order_by("-created_at", "id")
    )


def sessions_with_outputs() -> QuerySet[Session]:
    """Sessions with their node instances and each node's outputs, for the session page."""
    outputs = NodeOutput.objects.select_related("data_source").order_by("created_at", "id")
    nodes = NodeInstance.objects.prefetch_related(Prefetch("outputs", queryset=outputs)).order_by("id")
    return Session.objects.select_related("project", "session_template", "user").prefetch_related(
        Prefetch("node_instances", queryset=nodes)
    )


def configurations() -> QuerySet[PlatformConfiguration]:
    return PlatformConfiguration.objects.order_by("name")


@dataclass(frozen=True)
class TemplateGraph:
    """A session template as the portal shows it: nodes with their configuration as JSON text,
    and edges as (from, to) node pairs."""

    template: SessionTemplate
    nodes: list[tuple[NodeTemplate, str]]
    edges: list[tuple[NodeTemplate, NodeTemplate]]


def template_graphs() -> list[TemplateGraph]:
    graphs = []
    for template in session_templates():
        nodes = list(template.nodes.all())
        graphs.append(
            TemplateGraph(
                template=template,
                nodes=[(node, json.dumps(node.configuration, sort_keys=True)) for node in nodes],
                edges=[(source, node) for node in nodes for source in node.inputs.all()],
            )
        )
    return graphs
