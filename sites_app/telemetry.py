"""What a gateway's telemetry report means for its site: the site's rules for a well-formed
report (``sites_app.api.inputs.TelemetryIn``), and the SQL that stores it.

The statements of a report are written once (compiling them through the ORM cost several
times their execution): table and column names from the models, every value a parameter. The
asset update's shape depends on which assets name which fields, so it is written once per
shape: for each telemetry column, how many assets report it (the CASE's WHENs), and how many
assets the report names. A stale report (older than the stored one) costs one query more.
``sites_app.services.telemetry_record`` runs them.

Every report is also kept in the history (``TelemetryReport``): one multi-row insert per
request, single report or batch, that leaves a report already stored (same site and time) as it
is. On PostgreSQL the history is partitioned by month; ``services.telemetry_history_sweep``
creates the months ahead and drops the expired ones with the statements at the end.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

from heatportal.services import ServiceError
from heatportal.sqlrows import Columns, column, field
from sites_app import history
from sites_app.api.inputs import Problems, TelemetryBatchIn, TelemetryIn, telemetry_refusal
from sites_app.models import POWER_COLUMNS, Asset, AssetType, Site, TelemetryReport

# Wire name of a reported value → its asset column.
TELEMETRY_FIELDS = {
    "activePowerkW": "active_power_kw",
    "soc": "soc_pcnt",
    "availableStorageCapacitykWh": "available_capacity_kwh",
}
BESS_ONLY_FIELDS = ("soc", "availableStorageCapacitykWh")


@dataclass(frozen=True)
class TelemetryResult:
    applied: bool
    reported_at: datetime


@dataclass(frozen=True)
class TelemetryBatchResult:
    """A batch's outcome: its number of ``reports``, how many were new to the history
    (``stored``), whether its newest report became the current state (``applied``), and the
    current state's time."""

    reports: int
    stored: int
    applied: bool
    reported_at: datetime


class UnknownAsset(Exception):
    """The report names an asset type the site does not have (its transaction rolls back)."""


# --- The site's rules ----------------------------------------------------------------------------


def report_refusal(report: TelemetryIn, *, now: datetime) -> ServiceError | None:
    """What the site refuses in a well-formed report, before reading anything: a time from the
    future, BESS-only fields on another asset."""
    problems = Problems()
    report_problems(problems, report, latest=_latest(now))
    return telemetry_refusal(problems.items) if problems.items else None


def _latest(now: datetime) -> datetime:
    """The latest ``reportedAt`` accepted at ``now``."""
    return now + timedelta(seconds=settings.SITES_TELEMETRY_MAX_CLOCK_SKEW)


def report_problems(problems: Problems, report: TelemetryIn, /, *, latest: datetime, **where: Any) -> None:
    """Add what :func:`report_refusal` refuses in ``report`` to ``problems`` (``where``: which
    report of a batch)."""
    if report.reportedAt > latest:
        problems.add("reportedAt lies in the future; check the gateway's clock.", **where, field="reportedAt")
    for asset_name, fields in report.assets.items():
        for name in fields:
            if name in BESS_ONLY_FIELDS and asset_name != AssetType.BESS:
                problems.add(
                    f"Unknown field {name!r} for a {asset_name} asset.", **where, asset=asset_name, field=name
                )


def unknown_assets_refusal(report: TelemetryIn, *, known: set[str]) -> ServiceError:
    """The refusal of a report that names asset types the site does not have (``known``: the
    types it has), naming each."""
    problems = Problems()
    unknown_asset_problems(problems, report, known=known)
    return telemetry_refusal(problems.items)


def unknown_asset_problems(
    problems: Problems, report: TelemetryIn, /, *, known: set[str], **where: Any
) -> None:
    for asset_name in report.assets:
        if asset_name not in known:
            names = ", ".join(sorted(known))
            problems.add(f"Unknown asset {asset_name!r}; this site has: {names}.", **where, asset=asset_name)


def batch_refusal(batch: TelemetryBatchIn, *, known: set[str], now: datetime) -> ServiceError | None:
    """What the site refuses in a well-formed batch (``known``: the site's asset types): each
    report's problems, as :func:`report_refusal` and :func:`unknown_assets_refusal` give them,
    with the report's index."""
    problems = Problems()
    latest = _latest(now)
    for index, report in enumerate(batch.reports):
        report_problems(problems, report, latest=latest, report=index)
        if not known.issuperset(report.assets):
            unknown_asset_problems(problems, report, known=known, report=index)
    return telemetry_refusal(problems.items) if problems.items else None


# --- The SQL of a report -------------------------------------------------------------------------


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


@functools.cache
def site_report_sql(vendor: str) -> str:
    """Set the site's report time (and renew its revision) unless a newer report is stored:
    of two concurrent reports, the older cannot win."""
    site, reported_at = _quote(Site._meta.db_table), _quote(column(Site, "reported_at"))
    revision, pk = _quote(column(Site, "revision")), _quote(column(Site, "pk"))
    return (
        f"UPDATE {site} SET {reported_at} = %s, {revision} = %s"  # noqa: S608 (names from the model)
        f" WHERE {pk} = %s AND ({reported_at} IS NULL OR {reported_at} <= %s)"
    )


@functools.lru_cache(maxsize=256)
def asset_report_sql(vendor: str, whens: tuple[tuple[str, int], ...], assets: int) -> str:
    """``whens``: (column, number of assets reporting it) for each column set; parameters: each
    column's (type, value) pairs, then the site id, then the ``assets`` named types."""
    kind = _quote(column(Asset, "type"))
    site = _quote(column(Asset, "site"))
    sets = ", ".join(
        f"{_quote(name)} = CASE {' '.join([f'WHEN {kind} = %s THEN %s'] * count)} ELSE {_quote(name)} END"
        for name, count in whens
    )
    types = ", ".join(["%s"] * assets)
    table = _quote(Asset._meta.db_table)
    if not sets:  # nothing to store: count the named assets the site has
        return f"SELECT COUNT(*) FROM {table} WHERE {site} = %s AND {kind} IN ({types})"  # noqa: S608
    return f"UPDATE {table} SET {sets} WHERE {site} = %s AND {kind} IN ({types})"  # noqa: S608


def asset_report_params(values: dict[str, dict[str, float]]) -> tuple[tuple[tuple[str, int], ...], list[Any]]:
    """``asset_report_sql``'s ``whens`` for the report's ``values`` (``TelemetryIn.values``),
    and the (type, value) parameters of its CASEs."""
    whens: list[tuple[str, int]] = []
    params: list[Any] = []
    for name, asset_column in TELEMETRY_FIELDS.items():
        reporting = [(asset, float(fields[name])) for asset, fields in values.items() if name in fields]
        if reporting:
            whens.append((asset_column, len(reporting)))
            params += [item for pair in reporting for item in pair]
    return tuple(whens), params


REPORTED_AT = Columns([("s", field(Site, "reported_at"))])


@functools.lru_cache(maxsize=16)
def stored_report_sql(vendor: str, assets: int) -> str:
    """A stale report's answer: the stored report time, and how many of the ``assets`` named
    types the site has (parameters: the types, then the site id)."""
    site_table, asset_table = _quote(Site._meta.db_table), _quote(Asset._meta.db_table)
    pk, reported_at = _quote(column(Site, "pk")), _quote(column(Site, "reported_at"))
    kind, site = _quote(column(Asset, "type")), _quote(column(Asset, "site"))
    known = "0"
    if assets:
        types = ", ".join(["%s"] * assets)
        known = f"(SELECT COUNT(*) FROM {asset_table} a WHERE a.{site} = s.{pk} AND a.{kind} IN ({types}))"  # noqa: S608
    return f"SELECT s.{reported_at}, {known} FROM {site_table} s WHERE s.{pk} = %s"  # noqa: S608 (names from the models)


# --- The history ---------------------------------------------------------------------------------

# The columns of a history row as the insert writes them: the site, then sites_app.history's.
HISTORY_FIELDS: tuple[str, ...] = ("site", *history.COLUMNS)
_POWER_AT = {asset: history.COLUMNS.index(name) for asset, name in POWER_COLUMNS.items()}
_SOC_AT = history.COLUMNS.index("bess_soc_pcnt")
_CAPACITY_AT = history.COLUMNS.index("bess_available_kwh")


def history_rows(reports: Iterable[TelemetryIn], *, adapt: Any) -> list[list[Any]]:
    """The history rows of ``reports``, each the values of ``history.COLUMNS`` (``adapt``: the
    connection's ``adapt_datetimefield_value``). Written out rather than through
    ``history.report_row``: this is the ingest's inner loop. Asset names the site does not
    have are left out (such a report is refused: its transaction rolls back)."""
    rows = []
    empty: list[Any] = [None] * len(history.COLUMNS)
    for report in reports:
        row = empty.copy()
        row[0] = adapt(report.reportedAt)
        for asset_name, values in report.assets.items():
            position = _POWER_AT.get(asset_name)
            if position is not None:
                row[position] = values.get("activePowerkW")
            if asset_name == AssetType.BESS:
                row[_SOC_AT] = values.get("soc")
                row[_CAPACITY_AT] = values.get("availableStorageCapacitykWh")
        rows.append(row)
    return rows


def _max_parameters() -> int:
    """The most parameters one statement may carry on this connection (SQLite's limit is a
    build option: 250,000 in current builds, 999 in old ones)."""
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        limit: int = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        return limit
    return connection.features.max_query_params or 999


def history_insert_statements(site: Any, rows: list[list[Any]]) -> Iterator[tuple[str, list[Any]]]:
    """Insert ``rows`` (:func:`history_rows`) of the site (``site``: its id as the database takes
    it), a row already stored for its site and time left as it is (``ON CONFLICT DO
    NOTHING``): one statement for a whole batch.

    PostgreSQL takes the rows as one array per column (``unnest``): eleven parameters instead of
    eleven per row, which the driver would otherwise splice into the text one by one. SQLite
    (3.24 and later) takes a multi-row ``VALUES``; old builds, whose limit of parameters is
    999, take several statements.
    """
    insert = _history_insert(connection.vendor)
    if connection.vendor == "postgresql":
        arrays = ", ".join(["%s::timestamptz[]", *["%s::double precision[]"] * (len(history.COLUMNS) - 1)])
        sql = f"{insert} SELECT %s, * FROM unnest({arrays}) ON CONFLICT DO NOTHING"  # noqa: S608 (names from the model)
        yield sql, [site, *(list(values) for values in zip(*rows, strict=True))]
        return
    width = len(HISTORY_FIELDS)
    placeholders = "(" + ", ".join(["%s"] * width) + ")"
    per_statement = max(1, _max_parameters() // width)
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values = ", ".join([placeholders] * len(chunk))
        params = [value for row in chunk for value in (site, *row)]
        yield f"{insert} VALUES {values} ON CONFLICT DO NOTHING", params


@functools.cache
def _history_insert(vendor: str) -> str:
    """``INSERT INTO <history> (<HISTORY_FIELDS' columns>)``."""
    columns = ", ".join(_quote(column(TelemetryReport, name)) for name in HISTORY_FIELDS)
    return f"INSERT INTO {_quote(TelemetryReport._meta.db_table)} ({columns})"


# --- The history's monthly partitions (PostgreSQL) ---------------------------------------------


def partition_name(month: datetime) -> str:
    """The partition of the month starting at ``month`` (migration 0004 names them so)."""
    return f"{TelemetryReport._meta.db_table}_p{month:%Y%m}"


def partition_month(name: str) -> datetime | None:
    """The first instant of the month a partition named by :func:`partition_name` holds; None
    for another table (the default partition)."""
    found = re.fullmatch(rf"{re.escape(TelemetryReport._meta.db_table)}_p(\d{{4}})(\d{{2}})", name)
    if found is None:
        return None
    return datetime(int(found[1]), int(found[2]), 1, tzinfo=UTC)


def partition_list_sql() -> str:
    """The names of the history table's partitions (parameter: the table's name)."""
    return (
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = %s::regclass"
    )


def partition_create_sql(name: str) -> str:
    """Create the partition ``name`` (parameters: its month's first instant and the next's)."""
    return (
        f"CREATE TABLE IF NOT EXISTS {_quote(name)} PARTITION OF {_quote(TelemetryReport._meta.db_table)}"
        " FOR VALUES FROM (%s) TO (%s)"
    )


def default_partition_rows_sql() -> str:
    """Whether the default partition holds a row of a month (parameters: its first instant
    and the next month's): such rows keep the month's partition from being created."""
    table = _quote(f"{TelemetryReport._meta.db_table}_default")
    reported_at = _quote(column(TelemetryReport, "reported_at"))
    return f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {reported_at} >= %s AND {reported_at} < %s)"  # noqa: S608


def partition_drop_sql(name: str) -> str:
    return f"DROP TABLE IF EXISTS {_quote(name)}"
