"""Reads of the energy sites area, and the public API's response bodies.

``GET /sites`` is the hot path (a thousand sites, polled every few seconds by each client). Its
body is the concatenation of one JSON fragment per site, and a fragment only changes when the
site's row changes (``revision`` is renewed by every schedule batch, telemetry report and edit)
or when time passes a boundary (an entry ends, the site goes offline). Fragments, and the whole
body of each group, are kept in small per-process caches keyed by revisions, each with the time
until which it is true; the database stays the source of truth, so every process of every
server agrees. The list costs the same number of queries whatever the number of sites (see
``site_list_body``).
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from sites_app.models import (
    SCHEDULE_PAIRS,
    AccessGroup,
    Asset,
    AssetType,
    ScheduleBatch,
    ScheduleEntry,
    Site,
    SiteApiKey,
    SiteDeviceToken,
)
from sites_app.services import format_time, number

PAIR_ORDER = {pair: position for position, pair in enumerate(SCHEDULE_PAIRS)}
ASSET_ORDER = {asset: position for position, asset in enumerate(AssetType.values)}
FOREVER = datetime.max.replace(tzinfo=UTC)


def site_counts() -> dict[str, int]:
    return {
        "access groups": AccessGroup.objects.count(),
        "sites": Site.objects.count(),
        "active API keys": SiteApiKey.objects.filter(SiteApiKey.active_q()).count(),
    }


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def is_online(reported_at: datetime | None, *, now: datetime) -> bool:
    return reported_at is not None and now - reported_at < timedelta(seconds=settings.SITE_OFFLINE_AFTER)


# --- Schedules ------------------------------------------------------------------------------------


def active_entries(*, now: datetime) -> Q:
    """Entries that are in force or still to come: not replaced, not ended."""
    return Q(superseded_by__isnull=True, end_at__gt=now)


ENTRY_FIELDS = ("site_id", "asset", "kind", "start_at", "end_at", "value", "batch_id")


def schedules_payload(rows: Iterable[tuple], *, with_batch: bool = False) -> list[dict[str, Any]]:
    """``[{"asset", "type", "entries": [...]}]`` from entry rows of ONE site (ENTRY_FIELDS),
    ordered by start."""
    commands: dict[tuple[str, str], dict[str, Any]] = {}
    for _site_id, asset, kind, start_at, end_at, value, batch_id in rows:
        command = commands.get((asset, kind))
        if command is None:
            command = commands[(asset, kind)] = {"asset": asset, "type": kind}
            if with_batch:
                command["batchId"] = str(batch_id)
            command["entries"] = []
        command["entries"].append(
            {"startAt": format_time(start_at), "endAt": format_time(end_at), "value": number(value)}
        )
    # Entries keep the rows' order (by start); commands follow the document's order.
    ordered = sorted(commands.items(), key=lambda item: PAIR_ORDER.get(item[0], 99))
    return [command for _pair, command in ordered]


def _entry_rows(queryset) -> list[tuple]:
    return list(queryset.order_by("site_id", "start_at").values_list(*ENTRY_FIELDS))


# --- GET /sites: cached fragments -------------------------------------------------------------


@dataclass(frozen=True)
class Fragment:
    body: bytes
    valid_until: datetime


class FragmentCache:
    """Bounded, thread-safe LRUs of rendered JSON: one fragment per site state (keyed by
    ``"<site id>:<revision>"``) and one whole body per group state (keyed by the digest of
    the group's site keys). Each entry carries the time until which it stays true."""

    def __init__(self, max_items: int = 50_000, max_groups: int = 256):
        self.max_items = max_items
        self.max_groups = max_groups
        self._items: OrderedDict[str, Fragment] = OrderedDict()
        self._groups: OrderedDict[tuple, Fragment] = OrderedDict()
        self._lock = threading.Lock()

    def get_group(self, key: tuple, *, now: datetime) -> bytes | None:
        with self._lock:
            body = self._groups.get(key)
        return body.body if body is not None and now < body.valid_until else None

    def set_group(self, key: tuple, body: Fragment) -> None:
        with self._lock:
            self._groups[key] = body
            self._groups.move_to_end(key)
            while len(self._groups) > self.max_groups:
                self._groups.popitem(last=False)

    def get_many(self, keys: list[str], *, now: datetime) -> dict[str, Fragment]:
        with self._lock:
            found = [(key, self._items.get(key)) for key in keys]
        return {
            key: fragment for key, fragment in found if fragment is not None and now < fragment.valid_until
        }

    def set_many(self, fragments: dict[str, Fragment]) -> None:
        with self._lock:
            self._items.update(fragments)
            for key in fragments:
                self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._groups.clear()


fragment_cache = FragmentCache()


def _site_summary(
    site_id, name: str, reported_at: datetime | None, rows: list[tuple], *, now: datetime
) -> Fragment:
    online = is_online(reported_at, now=now)
    valid_until = reported_at + timedelta(seconds=settings.SITE_OFFLINE_AFTER) if online else FOREVER
    for row in rows:
        valid_until = min(valid_until, row[4])  # an entry's end drops it from the list
    body = _dumps(
        {
            "siteId": str(site_id),
            "siteName": name,
            "isOnline": online,
            "reportedAt": format_time(reported_at),
            "schedules": schedules_payload(rows),
        }
    )
    return Fragment(body=body, valid_until=valid_until)


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


def _site_keys(access_group_id: int) -> str:
    """``id:revision,id:revision,...`` of the group's sites, in list order (name, then id)."""
    connection = connections[Site.objects.db]
    sql = _SITE_KEYS_SQL.get(connection.vendor)
    if sql is None:  # another database: the same through the ORM
        rows = Site.objects.filter(access_group_id=access_group_id).order_by("name", "id")
        return ",".join(
            _key(site_id, revision, "") for site_id, revision in rows.values_list("id", "revision")
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [access_group_id])
        return cursor.fetchone()[0] or ""


def _key(site_id: uuid.UUID, revision: uuid.UUID, vendor: str) -> str:
    """A site's key as _site_keys writes it (UUIDs as the database writes them as text)."""
    if vendor == "postgresql":
        return f"{site_id}:{revision}"
    return f"{site_id.hex}:{revision.hex}"


def site_list_body(*, access_group_id: int, now: datetime | None = None) -> bytes:
    """The JSON body of ``GET /sites`` for one access group: ``{"sites": [...]}``.

    The group's site keys come first (one query). When they are what they were at the last
    render and no entry has ended since, that body is still true. Otherwise the body is put
    together from per-site fragments, rendering only the sites whose state changed (two more
    queries, whatever their number).
    """
    now = now or timezone.now()
    text = _site_keys(access_group_id)
    group_key = (access_group_id, hashlib.blake2b(text.encode(), digest_size=16).digest())
    body = fragment_cache.get_group(group_key, now=now)
    if body is not None:
        return body
    keys = text.split(",") if text else []
    fragments = fragment_cache.get_many(keys, now=now)
    missing = [key for key in keys if key not in fragments]
    complete = True
    if missing:
        fresh = _render_fragments(access_group_id, missing, now=now)
        fragment_cache.set_many(fresh)
        fragments.update(fresh)
        by_site = {key.partition(":")[0]: key for key in fresh}
        for position, key in enumerate(keys):
            if key not in fragments:
                # The site changed (or went) since the first query: show its newer state.
                complete = False
                keys[position] = by_site.get(key.partition(":")[0], key)
    parts = [fragments[key] for key in keys if key in fragments]
    body = b'{"sites":[' + b",".join([part.body for part in parts]) + b"]}"
    if complete:
        valid_until = min((part.valid_until for part in parts), default=FOREVER)
        fragment_cache.set_group(group_key, Fragment(body=body, valid_until=valid_until))
    return body


def _render_fragments(access_group_id: int, keys: list[str], *, now: datetime) -> dict[str, Fragment]:
    """Fragments of the sites named by ``keys``, as they are now (two queries)."""
    sites = Site.objects.filter(access_group_id=access_group_id)
    entries = ScheduleEntry.objects.filter(active_entries(now=now))
    if len(keys) > 200:  # most of the group: filter by group, not by a long list
        entries = entries.filter(site__access_group_id=access_group_id)
    else:
        ids = [uuid.UUID(key.partition(":")[0]) for key in keys]
        sites, entries = sites.filter(pk__in=ids), entries.filter(site_id__in=ids)
    rows_by_site: dict[Any, list[tuple]] = {}
    for row in _entry_rows(entries):
        rows_by_site.setdefault(row[0], []).append(row)
    wanted = {key.partition(":")[0] for key in keys}
    vendor = connections[Site.objects.db].vendor
    fresh = {}
    for site_id, name, reported_at, revision in sites.values_list("id", "name", "reported_at", "revision"):
        key = _key(site_id, revision, vendor)
        if key.partition(":")[0] in wanted:
            fresh[key] = _site_summary(site_id, name, reported_at, rows_by_site.get(site_id, []), now=now)
    return fresh


# --- GET /sites/{siteId} ----------------------------------------------------------------------


def asset_payload(asset: Asset) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": asset.public_id,
        "type": asset.type,
        "ratedPowerUpperLimitkW": number(asset.rated_upper_kw),
        "ratedPowerLowerLimitkW": number(asset.rated_lower_kw),
        "activePowerkW": number(asset.active_power_kw),
    }
    if asset.type == AssetType.BESS:
        body["ratedEnergyCapacitykWh"] = number(asset.energy_capacity_kwh)
        body["availableStorageCapacitykWh"] = number(asset.available_capacity_kwh)
        body["soc"] = number(asset.soc_pcnt)
    return body


def site_for_group(*, access_group_id: int, site_id) -> Site | None:
    """The site if it exists and belongs to the group; None otherwise (both are a 404)."""
    return Site.objects.filter(access_group_id=access_group_id, pk=site_id).first()


def site_detail_payload(site: Site, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    assets = sorted(Asset.objects.filter(site=site), key=lambda asset: ASSET_ORDER.get(asset.type, 99))
    rows = _entry_rows(ScheduleEntry.objects.filter(active_entries(now=now), site=site))
    return {
        "siteId": str(site.id),
        "siteName": site.name,
        "isOnline": is_online(site.reported_at, now=now),
        "reportedAt": format_time(site.reported_at),
        "schedules": schedules_payload(rows),
        "assets": {asset.type: asset_payload(asset) for asset in assets},
    }


def gateway_schedules_payload(site: Site, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    rows = _entry_rows(ScheduleEntry.objects.filter(active_entries(now=now), site=site))
    return {"siteId": str(site.id), "schedules": schedules_payload(rows, with_batch=True)}


# --- Portal pages ------------------------------------------------------------------------------


def access_groups_with_counts():
    now = timezone.now()
    active_keys = Q(api_keys__revoked_at__isnull=True) & (
        Q(api_keys__expires_at__isnull=True) | Q(api_keys__expires_at__gt=now)
    )
    return AccessGroup.objects.annotate(
        site_count=Count("sites", distinct=True),
        active_key_count=Count("api_keys", filter=active_keys, distinct=True),
    ).order_by("name")


def group_sites(group: AccessGroup):
    return Site.objects.filter(access_group=group).order_by("name", "id")


def group_keys(group: AccessGroup):
    return SiteApiKey.objects.filter(access_group=group).order_by("-created_at")


def site_assets(site: Site) -> list[Asset]:
    return sorted(Asset.objects.filter(site=site), key=lambda asset: ASSET_ORDER.get(asset.type, 99))


def site_timeline(site: Site, *, now: datetime | None = None) -> dict[str, Any]:
    """What the site page's chart draws: one row per asset/type, a bar per active entry."""
    now = now or timezone.now()
    rows = _entry_rows(ScheduleEntry.objects.filter(active_entries(now=now), site=site))
    return {"now": format_time(now), "schedules": schedules_payload(rows)}


def site_audit_trail(site: Site, *, limit: int = 50):
    """The site's latest batches, with what each one stored and what it replaced."""
    return (
        ScheduleBatch.objects.filter(site=site)
        .select_related("api_key")
        .prefetch_related(
            Prefetch("replaced_entries", queryset=ScheduleEntry.objects.order_by("asset", "kind", "start_at"))
        )
        .order_by("-created_at")[:limit]
    )


def site_device_token(site: Site) -> SiteDeviceToken | None:
    return SiteDeviceToken.objects.filter(site=site, revoked_at__isnull=True).first()
