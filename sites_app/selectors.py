"""Reads of the energy sites area. Response bodies are built in ``sites_app.api.outputs``.

The hot reads of the public API return what its cached bodies are keyed by (the sites'
revisions, one query), and the rows of the sites whose body must be rendered again (see
``sites_app.api.outputs``).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from heatportal.sqlrows import Columns, column, field
from sites_app import history
from sites_app.models import (
    ASSET_ORDER,
    AccessGroup,
    Asset,
    ScheduleBatch,
    ScheduleEntry,
    Site,
    SiteApiKey,
    SiteDeviceToken,
    TelemetryReport,
)

# --- Schedules ------------------------------------------------------------------------------------


ENTRY_FIELDS = ("site_id", "asset", "kind", "start_at", "end_at", "value", "batch_id")
# One entry as ENTRY_FIELDS: (site id, asset, type, start, end, value, batch id).
EntryRow = tuple[Any, ...]


def _entry_rows(queryset: QuerySet[ScheduleEntry]) -> list[EntryRow]:
    return list(queryset.order_by("site_id", "start_at").values_list(*ENTRY_FIELDS))


def schedule_entry_list(*, site_id: uuid.UUID, now: datetime | None = None) -> list[EntryRow]:
    """The site's entries that have not ended (ENTRY_FIELDS, by start): one query."""
    now = now or timezone.now()
    return _entry_rows(ScheduleEntry.objects.filter(ScheduleEntry.active_q(now), site_id=site_id))


def schedule_batch_list(*, site: Site, limit: int = 50) -> QuerySet[ScheduleBatch]:
    """The site's latest batches (its audit trail), with what each one stored and what it replaced."""
    return (
        ScheduleBatch.objects.filter(site=site)
        .select_related("api_key")
        .prefetch_related(
            Prefetch("replaced_entries", queryset=ScheduleEntry.objects.order_by("asset", "kind", "start_at"))
        )
        .order_by("-created_at")[:limit]
    )


# --- GET /sites -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteState:
    """What the public API shows of a site, without its assets."""

    id: uuid.UUID
    name: str
    reported_at: datetime | None
    revision: uuid.UUID
    rows: list[EntryRow]  # its entries that have not ended (ENTRY_FIELDS)


# The hot query of GET /sites: "<id>:<revision>" of each of the group's sites, in list order,
# as ONE string aggregated by the database (a thousand rows would cost a thousand tuples
# here). A revision is a random UUID renewed by every change of its site (schedule batch,
# telemetry, edit), so a key names one site in one state.
_SITE_KEYS_SQL = {
    "postgresql": (
        "SELECT string_agg(id::text || ':' || revision::text, ',' ORDER BY name, id) "
        "FROM sites_app_site WHERE access_group_id = %s"
    ),
    "sqlite": (
        "SELECT group_concat(k, ',') FROM (SELECT id || ':' || revision AS k "
        "FROM sites_app_site WHERE access_group_id = %s ORDER BY name, id)"
    ),
}


def site_revision_keys(*, access_group_id: int) -> str:
    """``id:revision,id:revision,...`` of the group's sites, in list order (name, then id):
    one query."""
    connection = connections[Site.objects.db]
    sql = _SITE_KEYS_SQL.get(connection.vendor)
    if sql is None:  # another database: the same through the ORM
        rows = Site.objects.filter(access_group_id=access_group_id).order_by("name", "id")
        return ",".join(
            _key(site_id, revision, "") for site_id, revision in rows.values_list("id", "revision")
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [access_group_id])
        keys: str | None = cursor.fetchone()[0]
        return keys or ""


def _key(site_id: uuid.UUID, revision: uuid.UUID, vendor: str) -> str:
    """A site's key as site_revision_keys writes it (UUIDs as the database writes them as text)."""
    if vendor == "postgresql":
        return f"{site_id}:{revision}"
    return f"{site_id.hex}:{revision.hex}"


def site_state_list(*, access_group_id: int, keys: list[str], now: datetime) -> dict[str, SiteState]:
    """The sites named by ``keys`` (of site_revision_keys) as they are now, by their current
    key: two queries, whatever their number."""
    sites = Site.objects.filter(access_group_id=access_group_id)
    entries = ScheduleEntry.objects.filter(ScheduleEntry.active_q(now))
    if len(keys) > 200:  # most of the group: filter by group, not by a long list
        entries = entries.filter(site__access_group_id=access_group_id)
    else:
        ids = [uuid.UUID(key.partition(":")[0]) for key in keys]
        sites, entries = sites.filter(pk__in=ids), entries.filter(site_id__in=ids)
    rows_by_site: dict[uuid.UUID, list[EntryRow]] = {}
    for row in _entry_rows(entries):
        rows_by_site.setdefault(row[0], []).append(row)
    wanted = {key.partition(":")[0] for key in keys}
    vendor = connections[Site.objects.db].vendor
    states = {}
    for site_id, name, reported_at, revision in sites.values_list("id", "name", "reported_at", "revision"):
        key = _key(site_id, revision, vendor)
        if key.partition(":")[0] in wanted:
            states[key] = SiteState(site_id, name, reported_at, revision, rows_by_site.get(site_id, []))
    return states


# --- GET /sites/{siteId} ----------------------------------------------------------------------


# The hot query of GET /sites/{siteId}, written once (the compiled queryset cost several times
# the query): names from the model, the group and the site id are parameters.
_STATE_COLUMNS = Columns([("s", field(Site, name)) for name in ("id", "name", "reported_at", "revision")])


@functools.cache
def _site_state_sql(vendor: str) -> str:
    quote = connections[Site.objects.db].ops.quote_name
    group = quote(column(Site, "access_group"))
    return (
        f"SELECT {_STATE_COLUMNS.select(quote)} FROM {quote(Site._meta.db_table)} s"  # noqa: S608 (names from the model)
        f" WHERE s.{group} = %s AND s.{quote(column(Site, 'pk'))} = %s"
    )


def site_state(*, access_group_id: int, site_id: uuid.UUID) -> SiteState | None:
    """The site if it exists and belongs to the group (one query); None otherwise (both are a
    404). Its entries are not read (``rows`` is empty): see ``site_detail``."""
    db = connections[Site.objects.db]
    with db.cursor() as cursor:
        cursor.execute(
            _site_state_sql(db.vendor), [access_group_id, Site._meta.pk.get_db_prep_value(site_id, db)]
        )
        row = cursor.fetchone()
    if row is None:
        return None
    site_id, name, reported_at, revision = _STATE_COLUMNS.convert(db, row)
    return SiteState(site_id, name, reported_at, revision, rows=[])


def site_detail(*, site_id: uuid.UUID, now: datetime | None = None) -> tuple[list[Asset], list[EntryRow]]:
    """The site's assets and its entries that have not ended: two queries."""
    return list(Asset.objects.filter(site_id=site_id)), schedule_entry_list(site_id=site_id, now=now)


def site_get(*, access_group_id: int, site_id: uuid.UUID) -> Site | None:
    """The site if it exists and belongs to the group; None otherwise (both are a 404)."""
    return Site.objects.filter(access_group_id=access_group_id, pk=site_id).first()


# --- Portal pages ------------------------------------------------------------------------------


def access_group_list(*, with_counts: bool = False) -> QuerySet[AccessGroup]:
    """The groups by name; ``with_counts``: each annotated with ``site_count`` and
    ``active_key_count``."""
    groups = AccessGroup.objects.order_by("name")
    if not with_counts:
        return groups
    now = timezone.now()
    active_keys = Q(api_keys__revoked_at__isnull=True) & (
        Q(api_keys__expires_at__isnull=True) | Q(api_keys__expires_at__gt=now)
    )
    return groups.annotate(
        site_count=Count("sites", distinct=True),
        active_key_count=Count("api_keys", filter=active_keys, distinct=True),
    )


def site_list(*, access_group: AccessGroup) -> QuerySet[Site]:
    return Site.objects.filter(access_group=access_group).order_by("name", "id")


def api_key_list(*, access_group: AccessGroup) -> QuerySet[SiteApiKey]:
    return SiteApiKey.objects.filter(access_group=access_group).order_by("-created_at")


def asset_list(*, site: Site) -> list[Asset]:
    """The site's assets in the document's order (grid, solar, bess, ...)."""
    return sorted(Asset.objects.filter(site=site), key=lambda asset: ASSET_ORDER.get(asset.type, 99))


def device_token_get(*, site: Site) -> SiteDeviceToken | None:
    """The site's live device token (at most one), or None."""
    return SiteDeviceToken.objects.filter(site=site, revoked_at__isnull=True).first()


def asset_types(*, site_id: uuid.UUID) -> set[str]:
    """The types of the site's assets: one query."""
    return set(Asset.objects.filter(site_id=site_id).values_list("type", flat=True))


def telemetry_points(
    *, site_id: uuid.UUID, start: datetime, end: datetime, resolution: str
) -> Iterator[dict[str, Any]]:
    """The site's history in ``[start, end)`` at ``resolution`` (``sites_app.history``), read in
    time order along the history's primary key (site, time) a chunk at a time: two queries."""
    assets = sorted(asset_types(site_id=site_id))
    rows = (
        TelemetryReport.objects.filter(site_id=site_id, reported_at__gte=start, reported_at__lt=end)
        .order_by("reported_at")
        .values_list(*history.COLUMNS)
        .iterator(chunk_size=2000)
    )
    return history.points(rows, assets=assets, resolution=resolution)


def schedule_entry_history(*, site_id: uuid.UUID, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """What was (or is) scheduled for the site over ``[start, end)``: each entry that was in
    force for some of that time, ``{"asset", "type", "startAt", "endAt", "value"}`` by start,
    its end cut at the time a later batch replaced it (an entry replaced before it started was
    never in force): one query."""
    rows = (
        ScheduleEntry.objects.filter(site_id=site_id, start_at__lt=end, end_at__gt=start)
        .filter(Q(superseded_by__isnull=True) | Q(superseded_by__created_at__gt=F("start_at")))
        .order_by("start_at", "asset", "kind")
        .values_list("asset", "kind", "start_at", "end_at", "value", "superseded_by__created_at")
    )
    return [
        {
            "asset": asset,
            "type": kind,
            "startAt": start_at,
            "endAt": min(end_at, replaced_at) if replaced_at is not None else end_at,
            "value": value,
        }
        for asset, kind, start_at, end_at, value, replaced_at in rows
    ]
