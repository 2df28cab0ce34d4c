"""Reads of the HEAT v2 API."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Count, Prefetch, QuerySet

from heatportal.accounts.models import User
from heatportal.services import ServiceError
from heatportal.sqlrows import Columns, instances
from sessions_app.configuration import config_readable, config_value_or_text
from sessions_app.models import (
    DataSource,
    NodeInstance,
    NodeOutput,
    NodeTemplate,
    PlatformConfiguration,
    Project,
    ScenarioInstance,
    Session,
    SessionTemplate,
)


def session_template_list() -> QuerySet[SessionTemplate]:
    return SessionTemplate.objects.prefetch_related(
        Prefetch("nodes", queryset=NodeTemplate.objects.prefetch_related("inputs"))
    ).order_by("id")


def project_list(*, with_session_counts: bool = False) -> QuerySet[Project]:
    """Projects by id, with their owner and default template at hand (the API's shape); with
    ``with_session_counts``, each with ``session_count`` instead (the portal's list)."""
    if with_session_counts:
        return (
            Project.objects.select_related("owner", "default_session_template")
            .annotate(session_count=Count("sessions"))
            .order_by("id")
        )
    return (
        Project.objects.select_related("owner")
        .prefetch_related(Prefetch("default_session_template", queryset=session_template_list()))
        .order_by("id")
    )


# --- One session in one query -----------------------------------------------------------------
# A session as the v2 API shows it spans seven tables (its template's node graph, its project's
# default template's, its node and scenario instances): prefetching reads it in nine queries.
# ``session_document_get`` reads it in one: the one-to-many parts are built as JSON by the database
# (SQLite's json_object/json_group_array, PostgreSQL's json_build_object/json_agg), already in
# the shapes of the output (``sessions_app.api.outputs``). The SQL is made of table and column
# names only: no value from a request is ever part of it (the session id is a parameter). It is
# written once per vendor rather than compiled from a queryset per request: for this query
# Django's compiler cost several times what the database does (v2 session GET, issue 11).


class _SQLite:
    @staticmethod
    def obj(*pairs: tuple[str, str]) -> str:
        return "json_object(" + ", ".join(f"'{key}', {value}" for key, value in pairs) + ")"

    @staticmethod
    def row(*values: str) -> str:
        return "json_array(" + ", ".join(values) + ")"

    @staticmethod
    def array(item: str, source: str, order: str) -> str:
        # SQLite 3.40 has no ORDER BY inside aggregates: the rows come ordered from a subquery.
        # json() keeps a nested document JSON (a subquery's result is plain text).
        rows = f"SELECT {item} AS item FROM {source} ORDER BY {order}"  # noqa: S608 (no input: see above)
        return f"json((SELECT json_group_array(json(item)) FROM ({rows})))"  # noqa: S608

    @staticmethod
    def document(column: str) -> str:
        return f"json({column})"

    @staticmethod
    def text(expression: str) -> str:
        return expression


class _PostgreSQL:
    @staticmethod
    def obj(*pairs: tuple[str, str]) -> str:
        return "json_build_object(" + ", ".join(f"'{key}', {value}" for key, value in pairs) + ")"

    @staticmethod
    def row(*values: str) -> str:
        return "json_build_array(" + ", ".join(values) + ")"

    @staticmethod
    def array(item: str, source: str, order: str) -> str:
        return f"(SELECT COALESCE(json_agg({item} ORDER BY {order}), '[]'::json) FROM {source})"  # noqa: S608

    @staticmethod
    def document(column: str) -> str:
        return column

    @staticmethod
    def text(expression: str) -> str:
        return f"({expression})::text"


_Dialect = type[_SQLite] | type[_PostgreSQL]


def _template_sql(sql: _Dialect, template_id: str) -> str:
    """A session template as ``SessionTemplateOutput`` gives it, nodes and edges included."""
    node = NodeTemplate._meta.db_table
    edge = NodeTemplate.inputs.through._meta.db_table
    nodes = sql.array(
        sql.obj(
            ("id", "n.id"),
            ("key", 'n."key"'),
            ("type", 'n."type"'),
            ("label", "n.label"),
            ("configuration", sql.document("n.configuration")),
        ),
        f"{node} n WHERE n.session_template_id = t.id",
        'n."position", n.id',
    )
    # node.inputs holds the node's sources: an edge runs from the source to the node.
    edges = sql.array(
        sql.obj(("from", "e.to_nodetemplate_id"), ("to", "e.from_nodetemplate_id")),
        f"{edge} e JOIN {node} target ON target.id = e.from_nodetemplate_id"
        f" JOIN {node} source ON source.id = e.to_nodetemplate_id"
        " WHERE target.session_template_id = t.id",
        'target."position", target.id, source."position", source.id',
    )
    document = sql.obj(
        ("id", "t.id"),
        ("name", "t.name"),
        ("description", "t.description"),
        ("configuration", "t.configuration"),
        ("nodes", nodes),
        ("edges", edges),
    )
    table = SessionTemplate._meta.db_table
    return sql.text(f"(SELECT {document} FROM {table} t WHERE t.id = {template_id})")  # noqa: S608


# The session, its project and the project's owner, in the models' columns: each becomes a model
# instance (``Model.from_db``), as ``select_related("project__owner")`` would make them.
_ROW_MODELS = ((Session, "s"), (Project, "p"), (User, "u"))
_ROW_COLUMNS = [Columns.of_model(model, alias) for model, alias in _ROW_MODELS]
_ROW_PARTS = [(model, columns) for (model, _alias), columns in zip(_ROW_MODELS, _ROW_COLUMNS, strict=True)]


@functools.cache
def _session_document_sql(vendor: str) -> str:
    """The one query of ``session_document_get``, written once per database vendor: table and column
    names come from the models, the session id is the only parameter (``%s``)."""
    sql: _Dialect = _PostgreSQL if vendor == "postgresql" else _SQLite
    nodes = sql.array(
        sql.obj(
            ("id", "i.id"),
            ("name", "i.name"),
            ("type", 'i."type"'),
            ("nodeTemplateId", "i.node_template_id"),
            ("configuration", sql.document("i.configuration")),
        ),
        f"{NodeInstance._meta.db_table} i WHERE i.session_id = s.id",
        "i.id",
    )
    scenarios = sql.array(
        sql.row(
            "c.id",
            "c.simulation_id",
            "c.scenario_name",
            "c.scenario_instance_id",
            "c.created_at",
            'c."start"',
            'c."end"',
        ),
        f"{ScenarioInstance._meta.db_table} c WHERE c.session_id = s.id",
        "c.created_at, c.id",
    )
    columns = [columns.select(connection.ops.quote_name) for columns in _ROW_COLUMNS]
    columns += [
        _template_sql(sql, "s.session_template_id"),
        _template_sql(sql, "p.default_session_template_id"),
        sql.text(nodes),
        sql.text(scenarios),
    ]
    session, project, user = (model._meta.db_table for model, _alias in _ROW_MODELS)
    return (
        f"SELECT {', '.join(columns)} FROM {session} s"  # noqa: S608 (names from the models; the id is a parameter)
        f" JOIN {project} p ON p.id = s.project_id JOIN {user} u ON u.id = p.owner_id WHERE s.id = %s"
    )


def _moment(text: str) -> datetime:
    """A datetime as the database wrote it in JSON (SQLite: naive UTC text; PostgreSQL: ISO 8601
    with an offset and as few fraction digits as needed)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _moment_or_none(text: str | None) -> datetime | None:
    return None if text is None else _moment(text)


@dataclass(frozen=True)
class SessionDocument:
    """A session with its project (and owner) as rows, and the rest as the output's dicts."""

    session: Session
    template: dict[str, Any]
    default_template: dict[str, Any] | None
    node_instances: list[dict[str, Any]]
    scenarios: list[tuple[int, str, str, str, datetime, datetime | None, datetime | None]]

    @property
    def default_ingestion_node_id(self) -> int | None:
        """The first input node of the session (its uploads' usual target)."""
        return next(
            (node["id"] for node in self.node_instances if node["type"] == NodeTemplate.INPUT_TYPE), None
        )


def _loads(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def session_document_get(*, session_id: Any) -> SessionDocument:
    """The session ``session_id`` names, read in one query (``_session_document_sql``);
    Session.DoesNotExist otherwise."""
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself (``connection`` is a proxy to it)
    with db.cursor() as cursor:
        cursor.execute(_session_document_sql(db.vendor), [Session._meta.pk.get_db_prep_value(session_id, db)])
        found = cursor.fetchone()
    if found is None:
        raise Session.DoesNotExist("Session matching query does not exist.")
    rows = instances(db, found, _ROW_PARTS)
    session, project, owner = cast(Session, rows[0]), rows[1], rows[2]  # the models of _ROW_PARTS
    offset = sum(len(columns) for columns in _ROW_COLUMNS)
    Project.owner.field.set_cached_value(project, owner)
    Session.project.field.set_cached_value(session, project)
    template, default_template, node_documents, scenario_rows = found[offset:]
    scenarios = [
        (pk, simulation, name, instance, _moment(created), _moment_or_none(start), _moment_or_none(end))
        for pk, simulation, name, instance, created, start, end in _loads(scenario_rows)
    ]
    return SessionDocument(
        session=session,
        template=_loads(template),
        default_template=_loads(default_template),
        node_instances=_loads(node_documents),
        scenarios=scenarios,
    )


def node_instance_list() -> QuerySet[NodeInstance]:
    return NodeInstance.objects.select_related("session")


def node_instance_data_source(*, node_instance: NodeInstance) -> DataSource:
    """The data source that the node's uploads are stored under; ServiceError if it has none."""
    name = (node_instance.configuration or {}).get("dataSourceName")
    if not name:
        raise ServiceError("Invalid node configuration: the node has no dataSourceName.")
    try:
        return DataSource.objects.get(name=name)
    except DataSource.DoesNotExist as error:
        raise ServiceError(f"Invalid node configuration: unknown data source '{name}'.") from error


def node_output_list(*, node_instance: NodeInstance) -> QuerySet[NodeOutput]:
    return node_instance.outputs.select_related("data_source").order_by("created_at", "id")


# --- Platform configuration -------------------------------------------------------------------


def config_list() -> QuerySet[PlatformConfiguration]:
    return PlatformConfiguration.objects.order_by("name")


def config_values(*, user: User, prefix: str) -> dict[str, Any]:
    """``{name: typed value}`` of the names equal to or starting with ``prefix`` that ``user``
    may read."""
    rows = PlatformConfiguration.objects.filter(name__startswith=prefix).order_by("name")
    return {row.name: config_value_or_text(row) for row in rows if config_readable(user=user, name=row.name)}


def config_groups() -> dict[str, dict[str, Any]]:
    """Every configuration, grouped by the first segment of its name (document 000, §11)."""
    grouped: dict[str, dict[str, Any]] = {}
    for row in PlatformConfiguration.objects.order_by("name"):
        head, _, rest = row.name.partition(":")
        grouped.setdefault(head, {})[rest or head] = config_value_or_text(row)
    return grouped


# --- Portal pages -----------------------------------------------------------------------------


def session_list(
    *, project: Project | None = None, with_node_counts: bool = False, with_outputs: bool = False
) -> QuerySet[Session]:
    """Sessions, newest first; those of ``project`` if given; with ``with_node_counts`` each
    with ``node_count`` (the project page); with ``with_outputs`` their project, template and
    user at hand and their node instances with each node's outputs (the session page)."""
    sessions = Session.objects.order_by("-created_at", "id")
    if project is not None:
        sessions = sessions.filter(project=project)
    if with_node_counts:
        sessions = sessions.annotate(node_count=Count("node_instances"))
    if with_outputs:
        outputs = NodeOutput.objects.select_related("data_source").order_by("created_at", "id")
        nodes = NodeInstance.objects.prefetch_related(Prefetch("outputs", queryset=outputs)).order_by("id")
        sessions = sessions.select_related("project", "session_template", "user").prefetch_related(
            Prefetch("node_instances", queryset=nodes)
        )
    return sessions


@dataclass(frozen=True)
class TemplateGraph:
    """A session template as the portal shows it: nodes with their configuration as JSON text,
    and edges as (from, to) node pairs."""

    template: SessionTemplate
    nodes: list[tuple[NodeTemplate, str]]
    edges: list[tuple[NodeTemplate, NodeTemplate]]


def session_template_graphs() -> list[TemplateGraph]:
    graphs = []
    for template in session_template_list():
        nodes = list(template.nodes.all())
        graphs.append(
            TemplateGraph(
                template=template,
                nodes=[(node, json.dumps(node.configuration, sort_keys=True)) for node in nodes],
                edges=[(source, node) for node in nodes for source in node.inputs.all()],
            )
        )
    return graphs
