"""What a gateway's telemetry report means for its site: the site's rules for a well-formed
report (``sites_app.api.inputs.TelemetryIn``), and the SQL that stores it.

The two statements of a report are written once (compiling them through the ORM cost several
times their execution): table and column names from the models, every value a parameter. The
asset update's shape depends on which assets name which fields, so it is written once per
shape: for each telemetry column, how many assets report it (the CASE's WHENs), and how many
assets the report names. A stale report (older than the stored one) costs one query more.
``sites_app.services.telemetry_record`` runs them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

from heatportal.services import ServiceError
from heatportal.sqlrows import Columns, column, field
from sites_app.api.inputs import Problems, TelemetryIn, telemetry_refusal
from sites_app.models import Asset, AssetType, Site

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


class UnknownAsset(Exception):
    """The report names an asset type the site does not have (its transaction rolls back)."""


# --- The site's rules ----------------------------------------------------------------------------


def report_refusal(report: TelemetryIn, *, now: datetime) -> ServiceError | None:
    """What the site refuses in a well-formed report, before reading anything: a time from the
    future, BESS-only fields on another asset."""
    problems = Problems()
    if report.reportedAt > now + timedelta(seconds=settings.SITES_TELEMETRY_MAX_CLOCK_SKEW):
        problems.add("reportedAt lies in the future; check the gateway's clock.", field="reportedAt")
    for asset_name, values in report.values().items():
        for name in values:
            if name in BESS_ONLY_FIELDS and asset_name != AssetType.BESS:
                problems.add(
                    f"Unknown field {name!r} for a {asset_name} asset.", asset=asset_name, field=name
                )
    return telemetry_refusal(problems.items) if problems.items else None


def unknown_assets_refusal(report: TelemetryIn, *, known: set[str]) -> ServiceError:
    """The refusal of a report that names asset types the site does not have (``known``: the
    types it has), naming each."""
    problems = Problems()
    for asset_name in report.assets:
        if asset_name not in known:
            names = ", ".join(sorted(known))
            problems.add(f"Unknown asset {asset_name!r}; this site has: {names}.", asset=asset_name)
    return telemetry_refusal(problems.items)


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
