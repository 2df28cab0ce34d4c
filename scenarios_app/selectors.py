"""Reads of the scenario runner."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Count, QuerySet

from heatportal.energy import BessEntry, ScheduleCheck, SiteInfo, energy_sites
from heatportal.services import Conflict, NotFound, ServiceError
from heatportal.sqlrows import Columns, instances, json_raw, json_value
from scenarios_app import site_link
from scenarios_app.models import Dataset, RunnerSession, Scenario


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def session_list(*, with_counts: bool = False) -> QuerySet[RunnerSession]:
    """The sessions, oldest first; ``with_counts``: each with ``dataset_count`` and
    ``scenario_count``."""
    sessions = RunnerSession.objects.order_by("created_at", "id")
    if with_counts:
        sessions = sessions.annotate(
            dataset_count=Count("datasets", distinct=True), scenario_count=Count("scenarios", distinct=True)
        )
    return sessions


def session_get(*, sid: str) -> RunnerSession | None:
    """The session by its UUID or its display name; a UUID match wins over a display name that
    happens to look like a UUID. Every runner request that names a session starts here: SQL
    written once (below)."""
    as_uuid = _as_uuid(sid)
    db = connections[DEFAULT_DB_ALIAS]
    params = [_uuid_param(as_uuid), sid] if as_uuid else [sid]
    with db.cursor() as cursor:
        cursor.execute(_session_sql(db.vendor, as_uuid is not None), params)
        rows = cursor.fetchall()
    matches = [cast(RunnerSession, _SESSION_COLUMNS.instance(RunnerSession, db, row)) for row in rows]
    for session in matches:
        if session.pk == as_uuid:
            return session
    return matches[0] if matches else None


def dataset_list(*, session: RunnerSession) -> QuerySet[Dataset]:
    return Dataset.objects.filter(session=session).order_by("created_at", "id")


def dataset_keys(*, session: RunnerSession) -> list[str]:
    return list(dataset_list(session=session).values_list("key", flat=True))


def dataset_get(*, session: RunnerSession, key: str, with_tables: bool = True) -> Dataset | None:
    """The session's dataset ``key``. Without its tables (they can be megabytes) it is what a
    new scenario refers to, read with SQL written once (below): it is on the create + run path."""
    if with_tables:
        return Dataset.objects.filter(session=session, key=key).first()
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        cursor.execute(_dataset_reference_sql(db.vendor), [_uuid_param(session.pk), key])
        found = cursor.fetchone()
    return None if found is None else cast(Dataset, _DATASET_REFERENCE_COLUMNS.instance(Dataset, db, found))


# What a scenario's API body reads: not the run's bookkeeping (its datetimes, token, worker).
SCENARIO_BODY_FIELDS = (
    "session_id",
    "tag",
    "dataset_id",
    "algo_name",
    "algo_params",
    "data_params",
    "status",
    "progress",
    "result",
    "kpi_values",
    "error",
)


def scenario_list(*, session: RunnerSession, body_only: bool = False) -> QuerySet[Scenario]:
    """The session's scenarios with their dataset (not its tables), oldest first. The caller
    has the session: it is not joined again for every row. ``body_only``: the columns of their
    API body and their dataset's key only (a list is read on every refresh of a client's table)."""
    scenarios = (
        Scenario.objects.filter(session=session)
        .select_related("dataset")
        .defer("dataset__tables")
        .order_by("created_at", "id")
    )
    return scenarios.only(*SCENARIO_BODY_FIELDS, "dataset__key") if body_only else scenarios


def scenario_get(
    *, scenario_id: str, session: RunnerSession | None = None, sid: str | None = None
) -> Scenario | None:
    """A scenario by its UUID (or, failing that, by its tag), with its session and its dataset
    (not its tables). Give the ``session``, or its ``sid`` (UUID or display name): then the
    scenario is read in one query with what its body reads (SQL written once, below), and None
    means not found that way (callers then look up step by step: :func:`session_get`, then this
    with the session). The instances are the ones ``select_related("session", "dataset")
    .only(...)`` would make: services that change the scenario save only the fields they change."""
    if session is not None:
        return _scenario_of_session(session, scenario_id)
    if sid is None:
        raise TypeError("scenario_get() needs a session or a sid")
    return _scenario_by_sid(sid, scenario_id)


def _scenario_of_session(session: RunnerSession, scenario_id: str) -> Scenario | None:
    scenarios = Scenario.objects.filter(session=session).select_related("dataset", "session")
    scenarios = scenarios.defer("dataset__tables")
    as_uuid = _as_uuid(scenario_id)
    if as_uuid is not None:
        found = scenarios.filter(pk=as_uuid).first()
        if found is not None:
            return found
    return scenarios.filter(tag=scenario_id).first()


def _scenario_by_sid(sid: str, scenario_id: str) -> Scenario | None:
    sid_uuid, scenario_uuid = _as_uuid(sid), _as_uuid(scenario_id)
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself (``connection`` is a proxy to it)
    params = [
        _uuid_param(sid_uuid) if sid_uuid else sid,
        _uuid_param(scenario_uuid) if scenario_uuid else scenario_id,
    ]
    with db.cursor() as cursor:
        cursor.execute(_get_sql(db.vendor, sid_uuid is not None, scenario_uuid is not None), params)
        found = cursor.fetchone()
    if found is None:
        return None
    scenario, session, dataset = instances(db, found, _GET_COLUMNS)
    Scenario.session.field.set_cached_value(scenario, session)
    Scenario.dataset.field.set_cached_value(scenario, dataset)
    return cast(Scenario, scenario)


# --- The hottest reads, in SQL written once ---------------------------------------------------
# Clients poll a scenario's status many times a second and refresh their list of scenarios. For
# these reads Django's query compiler cost ten times the query itself (0.23 ms against 0.01 ms
# for the status on SQLite), so they are SQL written once per database vendor and shape, with
# table and column names from the models and every value passed as a parameter. The common case
# only: what they do not find, callers look up step by step (the 404s, the rare cases).


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


@functools.cache
def _status_sql(vendor: str, session_by_uuid: bool, scenario_by_uuid: bool) -> str:
    scenario, session = _q(Scenario._meta.db_table), _q(RunnerSession._meta.db_table)
    join = "" if session_by_uuid else f" JOIN {session} r ON r.id = s.session_id"
    where_session = "s.session_id = %s" if session_by_uuid else "r.display_name = %s"
    where_scenario = "s.id = %s" if scenario_by_uuid else "s.tag = %s ORDER BY s.created_at, s.id"
    return f"SELECT s.id, s.tag, s.status, s.progress FROM {scenario} s{join} WHERE {where_session} AND {where_scenario} LIMIT 1"  # noqa: E501, S608 (names from the models; values are parameters)


_SESSION_COLUMNS = Columns.of_model(RunnerSession, "r")
_DATASET_REFERENCE_COLUMNS = Columns.of_model(Dataset, "d", ("id", "session_id", "key", "owner_id"))


@functools.cache
def _session_sql(vendor: str, by_uuid: bool) -> str:
    where = "r.id = %s OR r.display_name = %s" if by_uuid else "r.display_name = %s"
    return f"SELECT {_SESSION_COLUMNS.select(_q)} FROM {_q(RunnerSession._meta.db_table)} r WHERE {where}"  # noqa: S608 (names from the models; values are parameters)


@functools.cache
def _dataset_reference_sql(vendor: str) -> str:
    columns, table = _DATASET_REFERENCE_COLUMNS.select(_q), _q(Dataset._meta.db_table)
    return f"SELECT {columns} FROM {table} d WHERE d.session_id = %s AND d.{_q('key')} = %s"  # noqa: S608 (names from the models; values are parameters)


# scenario_get's row: the scenario's body columns, its session, its dataset without its tables.
_GET_COLUMNS = (
    (Scenario, Columns.of_model(Scenario, "s", ("id", "owner_id", *SCENARIO_BODY_FIELDS))),
    (RunnerSession, Columns.of_model(RunnerSession, "r")),
    (Dataset, Columns.of_model(Dataset, "d", ("id", "session_id", "key", "owner_id"))),
)


@functools.cache
def _get_sql(vendor: str, session_by_uuid: bool, scenario_by_uuid: bool) -> str:
    scenario, session, dataset = (_q(m._meta.db_table) for m in (Scenario, RunnerSession, Dataset))
    columns = ", ".join(columns.select(_q) for _model, columns in _GET_COLUMNS)
    where_session = "s.session_id = %s" if session_by_uuid else "r.display_name = %s"
    where_scenario = "s.id = %s" if scenario_by_uuid else "s.tag = %s"
    return (
        f"SELECT {columns} FROM {scenario} s JOIN {session} r ON r.id = s.session_id"  # noqa: S608 (names from the models; values are parameters)
        f" JOIN {dataset} d ON d.id = s.dataset_id WHERE {where_session} AND {where_scenario}"
    )


@functools.cache
def _list_sql(vendor: str, session_by_uuid: bool) -> str:
    scenario, session, dataset = (_q(m._meta.db_table) for m in (Scenario, RunnerSession, Dataset))
    columns = "s.id, s.tag, d." + _q("key") + ", s.algo_name, s.algo_params, s.data_params, s.status, "
    columns += "s.progress, s.error, s.result, s.kpi_values"
    return (
        f"SELECT r.id, r.kpis, {columns} FROM {session} r"  # noqa: S608 (names from the models)
        f" LEFT JOIN {scenario} s ON s.session_id = r.id LEFT JOIN {dataset} d ON d.id = s.dataset_id"
        f" WHERE r.{'id' if session_by_uuid else 'display_name'} = %s ORDER BY s.created_at, s.id"
    )


def _uuid_param(value: uuid.UUID) -> Any:
    return Scenario._meta.pk.get_db_prep_value(value, connection)


def _uuid_text(value: uuid.UUID | str) -> str:
    if isinstance(value, uuid.UUID):  # PostgreSQL
        return str(value)
    # SQLite stores 32 hex digits; put in the dashes (a UUID object per row cost 5 µs)
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def scenario_status(*, sid: str, scenario_id: str) -> dict[str, Any] | None:
    """The poll body's values (id, tag, status, progress) in one query, or None."""
    sid_uuid, scenario_uuid = _as_uuid(sid), _as_uuid(scenario_id)
    sql = _status_sql(connection.vendor, sid_uuid is not None, scenario_uuid is not None)
    params = [
        _uuid_param(sid_uuid) if sid_uuid else sid,
        _uuid_param(scenario_uuid) if scenario_uuid else scenario_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return {"id": _uuid_text(row[0]), "tag": row[1], "status": row[2], "progress": row[3]}


def scenario_table(*, sid: str) -> tuple[list[str], list[dict[str, Any]]] | None:
    """``(session KPI names, scenario rows)`` of the session ``sid`` (its UUID or its display
    name), its scenarios oldest first, in one query; None when not found that way. A row holds
    what a scenario's body reads (see ``scenarios_app.api.outputs.scenario_row_output``)."""
    sid_uuid = _as_uuid(sid)
    with connection.cursor() as cursor:
        cursor.execute(
            _list_sql(connection.vendor, sid_uuid is not None), [_uuid_param(sid_uuid) if sid_uuid else sid]
        )
        found = cursor.fetchall()
    if not found:
        return None
    # Scenarios of a session mostly share their parameters: each text is decoded once, and
    # rows with the same text share the (read-only) value.
    decoded: dict[str, Any] = {}
    # A session without scenarios has one row, with no scenario id.
    rows = [_scenario_row(values, decoded) for values in found if values[2] is not None]
    return json_value(found[0][1]), rows


_ROW_KEYS = ("tag", "input_data_id", "algo_name", "algo_params", "data_params", "status", "progress")


def _scenario_row(found: tuple[Any, ...], decoded: dict[str, Any]) -> dict[str, Any]:
    """A row of :func:`scenario_table` from a row of its query; ``decoded``: the parameter
    texts decoded so far, and their values."""
    _session_id, _kpis, scenario_id, *values, error, result, kpi_values = found
    row = dict(zip(_ROW_KEYS, values, strict=True))
    row["id"] = _uuid_text(scenario_id)
    for name in ("algo_params", "data_params"):
        text = row[name]
        value = decoded.get(text)
        if value is None:
            value = decoded[text] = json_value(text)
        row[name] = value
    complete = row["status"] == Scenario.Status.COMPLETE  # the body shows results only then
    # The result is only passed on: rendered from its stored text (RawJson).
    row.update(error=error, result=json_raw(result) if complete else None)
    row["kpi_values"] = json_value(kpi_values) if complete else None
    return row


def session_busy(*, session_id: uuid.UUID) -> bool:
    """Whether one of the session's scenarios is processing (the partial unique index that
    allows one per session answers it). SQL written once: asked after every run request."""
    with connection.cursor() as cursor:
        cursor.execute(_busy_sql(connection.vendor), [_uuid_param(session_id), Scenario.Status.PROCESSING])
        return cursor.fetchone() is not None


@functools.cache
def _busy_sql(vendor: str) -> str:
    return f"SELECT 1 FROM {_q(Scenario._meta.db_table)} WHERE session_id = %s AND status = %s LIMIT 1"  # noqa: S608 (names from the models; values are parameters)


def session_waiting(*, session_id: uuid.UUID) -> bool:
    """Whether the session has scenarios waiting (asked when a run ends, for the next in line)."""
    return Scenario.objects.filter(session_id=session_id, status=Scenario.Status.QUEUED).exists()


def scenario_processing(*, session: RunnerSession) -> Scenario | None:
    return scenario_list(session=session).filter(status=Scenario.Status.PROCESSING).first()


def scenario_queue_position(*, scenario: Scenario) -> int | None:
    if scenario.status != Scenario.Status.QUEUED:
        return None
    return Scenario.objects.filter(
        session_id=scenario.session_id, status=Scenario.Status.QUEUED, queued_at__lt=scenario.queued_at
    ).count()


def scenario_tag_taken(*, session: RunnerSession, tag: str) -> bool:
    return Scenario.objects.filter(session=session, tag=tag).exists()


# --- From scenario to schedule ---------------------------------------------------------------


def scenario_dispatch(*, scenario: Scenario, start_at: datetime) -> list[BessEntry]:
    """The BESS ``activePowerkW`` entries a complete scenario's battery dispatch makes from
    ``start_at`` (:func:`scenarios_app.site_link.dispatch_entries`): 409 when the scenario is not
    complete, 400 when its result has no battery dispatch."""
    if scenario.status != Scenario.Status.COMPLETE:
        raise Conflict(
            f"Scenario '{scenario.tag}' is {scenario.status}: only a complete scenario's battery "
            "dispatch can be applied to a site."
        )
    try:
        battery_kw, step_hours = site_link.battery_series(scenario.result)
    except site_link.NoDispatch as error:
        raise ServiceError(str(error)) from error
    return site_link.dispatch_entries(battery_kw, step_hours=step_hours, start_at=start_at)


@dataclass(frozen=True)
class ApplyPreview:
    """What applying a scenario to a site would send, and what the sites' rules say of it."""

    site: SiteInfo
    entries: list[BessEntry]
    check: ScheduleCheck


def scenario_apply_preview(*, scenario: Scenario, site_id: uuid.UUID, start_at: datetime) -> ApplyPreview:
    """The entries :func:`scenarios_app.services.scenario_apply_to_site` would send and the
    sites' validation of them, nothing stored; 404 for an unknown site."""
    entries = scenario_dispatch(scenario=scenario, start_at=start_at)
    sites = energy_sites()
    site = sites.site_get(site_id=site_id)
    if site is None:
        raise NotFound(f"Site '{site_id}' not found.")
    return ApplyPreview(site, entries, sites.bess_schedule_check(site_id=site_id, entries=entries))
