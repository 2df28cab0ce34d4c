"""The sites APIs' response bodies: plain functions from rows and models to dicts (or to the
bytes of a cached body), written as document 002 writes them.

``GET /sites`` and ``GET /sites/{siteId}`` are the hot reads (a thousand sites, polled every
few seconds by each client). A site's part of a body only changes when the site's row changes
(``revision`` is renewed by every schedule batch, telemetry report, edit of the site or of its
assets) or when time passes a boundary (an entry ends, the site goes offline). So their bodies
are kept rendered in small per-process caches keyed by revisions, each with the time until
which it is true; the database stays the source of truth (every request reads the revisions),
so every process of every server agrees. See :func:`site_list_body` and :func:`site_detail_body`.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags

from heatportal.api.rendering import dumps
from sites_app.models import ASSET_ORDER, SCHEDULE_PAIRS, Asset, AssetType, ScheduleBatch, Site

if TYPE_CHECKING:
    from sites_app.selectors import EntryRow, SiteState
    from sites_app.telemetry import TelemetryBatchResult, TelemetryResult

PAIR_ORDER = {pair: position for position, pair in enumerate(SCHEDULE_PAIRS)}
FOREVER = datetime.max.replace(tzinfo=UTC)

# --- Values -----------------------------------------------------------------------------------


def format_time(value: datetime | None) -> str | None:
    """``2026-06-01T08:00:00Z``: UTC with a Z, as the document writes times."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def number(value: float | None) -> int | float | None:
    """Whole numbers as integers (``50``, not ``50.0``), as the document writes them."""
    if value is None:
        return None
    return int(value) if value.is_integer() else value


def is_online(reported_at: datetime | None, *, now: datetime) -> bool:
    return reported_at is not None and now - reported_at < timedelta(seconds=settings.SITE_OFFLINE_AFTER)


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


# --- Schedules --------------------------------------------------------------------------------


def schedules(rows: Iterable[EntryRow], *, with_batch: bool = False) -> list[dict[str, Any]]:
    """``[{"asset", "type", "entries": [...]}]`` from entry rows of ONE site
    (``selectors.ENTRY_FIELDS``), ordered by start."""
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


def schedule_accepted(batch: ScheduleBatch) -> dict[str, Any]:
    return {"batchId": str(batch.id), "accepted": batch.accepted}


def gateway_schedules(site_id: uuid.UUID, rows: list[EntryRow]) -> dict[str, Any]:
    return {"siteId": str(site_id), "schedules": schedules(rows, with_batch=True)}


def entity_tag(body: bytes) -> str:
    """A strong entity tag of ``body``: a digest of its bytes, quoted."""
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def tagged(data: Any, *, if_none_match: str) -> HttpResponse:
    """``data`` as JSON with its ``ETag``; ``304 Not Modified`` (no body) when ``if_none_match``
    (the request's header) names that tag or is ``*``. If-None-Match compares weakly (RFC 9110
    13.1.2): a ``W/`` tag matches too."""
    body = dumps(data)
    tag = entity_tag(body)
    sent = parse_etags(if_none_match) if if_none_match else []
    if "*" in sent or tag in (etag.removeprefix("W/") for etag in sent):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = tag
    response["Cache-Control"] = "no-cache"  # a client may keep it, asking again each time
    return response


def schedule_acknowledged(batch: ScheduleBatch) -> dict[str, Any]:
    return {
        "batchId": str(batch.id),
        "appliedAt": format_time(batch.applied_at),
        "acknowledgedAt": format_time(batch.acknowledged_at),
    }


def timeline(rows: list[EntryRow], *, now: datetime) -> dict[str, Any]:
    """What the site page's chart draws: one row per asset/type, a bar per active entry."""
    return {"now": format_time(now), "schedules": schedules(rows)}


def telemetry_result(result: TelemetryResult) -> dict[str, Any]:
    body: dict[str, Any] = {"applied": result.applied, "reportedAt": format_time(result.reported_at)}
    if not result.applied:
        body["message"] = "Older than the stored report; kept out of the current state."
    return body


def telemetry_batch_result(result: TelemetryBatchResult) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reports": result.reports,
        "stored": result.stored,
        "applied": result.applied,
        "reportedAt": format_time(result.reported_at),
    }
    if not result.applied:
        body["message"] = "The newest report is older than the stored one; kept out of the current state."
    return body


# --- Sites ------------------------------------------------------------------------------------


def asset(asset: Asset) -> dict[str, Any]:
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


def site_summary(
    site_id: uuid.UUID, name: str, reported_at: datetime | None, rows: list[EntryRow], *, now: datetime
) -> dict[str, Any]:
    return {
        "siteId": str(site_id),
        "siteName": name,
        "isOnline": is_online(reported_at, now=now),
        "reportedAt": format_time(reported_at),
        "schedules": schedules(rows),
    }


def site_detail(
    site: Site | SiteState, assets: Iterable[Asset], rows: list[EntryRow], *, now: datetime
) -> dict[str, Any]:
    """``site`` is a Site or a :class:`selectors.SiteState`."""
    body = site_summary(site.id, site.name, site.reported_at, rows, now=now)
    ordered = sorted(assets, key=lambda item: ASSET_ORDER.get(item.type, 99))
    body["assets"] = {item.type: asset(item) for item in ordered}
    return body


def valid_until(reported_at: datetime | None, rows: list[EntryRow], *, now: datetime) -> datetime:
    """Until when a site's rendered state stays true: it goes offline, or an entry ends."""
    until = FOREVER
    if reported_at is not None and is_online(reported_at, now=now):
        until = reported_at + timedelta(seconds=settings.SITE_OFFLINE_AFTER)
    for row in rows:
        until = min(until, row[4])
    return until


# --- The caches of rendered bodies --------------------------------------------------------------


@dataclass(frozen=True)
class Fragment:
    body: bytes
    valid_until: datetime


class FragmentCache:
    """Bounded, thread-safe LRUs of rendered JSON: one fragment per site state (keyed by
    ``"<site id>:<revision>"``; ``"detail:..."`` for the detail body) and one whole body per
    group state (keyed by the digest of the group's site keys). Each entry carries the time
    until which it stays true."""

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


def site_list_body(
    *, access_group_id: int, keys: str, load: Callable[[list[str]], dict[str, SiteState]], now: datetime
) -> bytes:
    """The JSON body of ``GET /sites`` for one access group: ``{"sites": [...]}``.

    ``keys`` are the group's ``"<id>:<revision>"`` in list order (``selectors.site_revision_keys``, one
    query). When they are what they were at the last render and no entry has ended since, that
    body is still true. Otherwise the body is joined from per-site fragments, and ``load``
    (``selectors.site_state_list``: two queries, whatever their number) reads the sites whose
    fragment is missing or stale.
    """
    group_key = (access_group_id, hashlib.blake2b(keys.encode(), digest_size=16).digest())
    body = fragment_cache.get_group(group_key, now=now)
    if body is not None:
        return body
    order = keys.split(",") if keys else []
    fragments = fragment_cache.get_many(order, now=now)
    missing = [key for key in order if key not in fragments]
    complete = True
    if missing:
        fresh = {
            key: Fragment(
                body=_dumps(site_summary(state.id, state.name, state.reported_at, state.rows, now=now)),
                valid_until=valid_until(state.reported_at, state.rows, now=now),
            )
            for key, state in load(missing).items()
        }
        fragment_cache.set_many(fresh)
        fragments.update(fresh)
        by_site = {key.partition(":")[0]: key for key in fresh}
        for position, key in enumerate(order):
            if key not in fragments:
                # The site changed (or went) since the first query: show its newer state.
                complete = False
                order[position] = by_site.get(key.partition(":")[0], key)
    parts = [fragments[key] for key in order if key in fragments]
    body = b'{"sites":[' + b",".join([part.body for part in parts]) + b"]}"
    if complete:
        until = min((part.valid_until for part in parts), default=FOREVER)
        fragment_cache.set_group(group_key, Fragment(body=body, valid_until=until))
    return body


def site_detail_body(
    state: SiteState, *, load: Callable[[uuid.UUID], tuple[list[Asset], list[EntryRow]]], now: datetime
) -> bytes:
    """The JSON body of ``GET /sites/{siteId}`` for ``state`` (``selectors.site_state``: one
    query, which also checks the group), from the cache while the site's revision is the same
    and nothing has ended; else ``load`` reads its assets and entries (two queries)."""
    key = f"detail:{state.id}:{state.revision}"
    cached = fragment_cache.get_many([key], now=now)
    if key in cached:
        return cached[key].body
    assets, rows = load(state.id)
    body = _dumps(site_detail(state, assets, rows, now=now))
    fragment_cache.set_many(
        {key: Fragment(body=body, valid_until=valid_until(state.reported_at, rows, now=now))}
    )
    return body
