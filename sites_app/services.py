"""Writes of the energy sites area. API views, portal views, commands and demo data call these."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from heatportal.credentials import credential_issue, credential_revoke
from heatportal.services import ServiceError
from sites_app.models import (
    MUTUALLY_EXCLUSIVE,
    PERCENT_TYPES,
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

# --- Access groups and API keys -----------------------------------------------------------------


def access_group_create(*, name: str) -> AccessGroup:
    name = name.strip()
    if not name:
        raise ServiceError("An access group needs a name.")
    if AccessGroup.objects.filter(name=name).exists():
        raise ServiceError(f"An access group named {name!r} already exists.")
    return AccessGroup.objects.create(name=name)


@transaction.atomic
def api_key_create(
    *, access_group: AccessGroup, name: str, expires_at: datetime | None = None
) -> tuple[SiteApiKey, str]:
    """A new key of the group and its full value (shown once, never stored).

    The group row is locked so that two concurrent creations cannot both pass the limit of
    active keys; the database's unique constraint settles duplicate names.
    """
    name = name.strip()
    if not name:
        raise ServiceError("An API key needs a name.")
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ServiceError("The expiry must lie in the future.")
    AccessGroup.objects.select_for_update().filter(pk=access_group.pk).first()
    if SiteApiKey.objects.filter(access_group=access_group, name=name).exists():
        raise ServiceError(f"This access group already has a key named {name!r}.")
    limit = settings.SITES_MAX_ACTIVE_KEYS_PER_GROUP
    active = SiteApiKey.objects.filter(SiteApiKey.active_q(now), access_group=access_group).count()
    if active >= limit:
        raise ServiceError(
            f"This access group already has {limit} active keys, the most allowed. Revoke one first."
        )
    try:
        with transaction.atomic():
            return credential_issue(SiteApiKey, access_group=access_group, name=name, expires_at=expires_at)
    except IntegrityError as error:
        raise ServiceError(f"This access group already has a key named {name!r}.") from error


def api_key_revoke(*, api_key: SiteApiKey) -> None:
    """Revoke a key; the next request that presents it is refused."""
    credential_revoke(api_key)


# --- Sites and device tokens ---------------------------------------------------------------------

# The standard asset set of `create_site`: (type, rated upper kW, rated lower kW, capacity kWh).
STANDARD_ASSETS: tuple[tuple[str, float, float, float | None], ...] = (
    (AssetType.GRID, 500, -500, None),
    (AssetType.SOLAR, 200, 0, None),
    (AssetType.BESS, 100, -100, 500),
    (AssetType.EV, 50, 0, None),
    (AssetType.HEATPUMP, 20, 0, None),
    (AssetType.GENSET, 300, 0, None),
    (AssetType.LOAD, 400, 0, None),
)


@transaction.atomic
def site_create(
    *,
    access_group: AccessGroup,
    name: str,
    assets: tuple[tuple[str, float, float, float | None], ...] = STANDARD_ASSETS,
    site_id: uuid.UUID | None = None,
) -> tuple[Site, str]:
    """A site with its assets and a device token; returns the site and the token's value."""
    name = name.strip()
    if not name:
        raise ServiceError("A site needs a name.")
    site = Site.objects.create(access_group=access_group, name=name, **({"id": site_id} if site_id else {}))
    Asset.objects.bulk_create(
        Asset(site=site, type=kind, rated_upper_kw=upper, rated_lower_kw=lower, energy_capacity_kwh=capacity)
        for kind, upper, lower, capacity in assets
    )
    _token, value = credential_issue(SiteDeviceToken, site=site)
    return site, value


def site_save(*, site: Site) -> Site:
    """Save a changed site (the admin's edits): renews its revision, so lists show the change."""
    site.name = site.name.strip()
    if not site.name:
        raise ServiceError("A site needs a name.")
    site.revision = uuid.uuid4()
    site.save()
    return site


@transaction.atomic
def device_token_rotate(*, site: Site) -> str:
    """Revoke the site's device token and issue a new one; returns the new value (shown once)."""
    Site.objects.select_for_update().filter(pk=site.pk).first()
    SiteDeviceToken.objects.filter(site=site, revoked_at__isnull=True).update(revoked_at=timezone.now())
    _token, value = credential_issue(SiteDeviceToken, site=site)
    return value


# --- Schedules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedEntry:
    index: int
    start_at: datetime
    end_at: datetime
    value: float


@dataclass(frozen=True)
class ParsedCommand:
    index: int
    asset: str
    kind: str
    entries: tuple[ParsedEntry, ...]

    @property
    def pair(self) -> tuple[str, str]:
        return (self.asset, self.kind)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 time with a time zone, in UTC; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None or timezone.is_naive(parsed):
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC, 9999-12-31 west of it
        return None


def _overlaps(a: ParsedEntry, b: ParsedEntry) -> bool:
    return a.start_at < b.end_at and b.start_at < a.end_at


class _Problems:
    """Collects what is wrong with a batch, naming the command and entry of each problem."""

    def __init__(self):
        self.items: list[dict[str, Any]] = []

    def add(self, message: str, *, command: int | None = None, entry: int | None = None, **extra: Any):
        item: dict[str, Any] = {}
        if command is not None:
            item["command"] = command
        item.update(extra)
        if entry is not None:
            item["entry"] = entry
        item["message"] = message
        self.items.append(item)


def _parse_entry(raw: Any, *, index: int, where: dict, problems: _Problems) -> ParsedEntry | None:
    if not isinstance(raw, dict):
        problems.add("An entry must be an object with startAt, endAt and value.", entry=index, **where)
        return None
    ok = True
    times = {}
    for field in ("startAt", "endAt"):
        if field not in raw:
            problems.add(f"{field} is required.", entry=index, field=field, **where)
            ok = False
            continue
        times[field] = parse_timestamp(raw[field])
        if times[field] is None:
            problems.add(
                f"{field} must be an ISO 8601 date-time with a time zone, e.g. 2026-06-01T08:00:00Z.",
                entry=index,
                field=field,
                **where,
            )
            ok = False
    if "value" not in raw:
        problems.add("value is required.", entry=index, field="value", **where)
        ok = False
    elif not _is_number(raw["value"]):
        problems.add("value must be a number.", entry=index, field="value", **where)
        ok = False
    if ok and times["startAt"] >= times["endAt"]:
        problems.add("startAt must be before endAt.", entry=index, field="startAt", **where)
        ok = False
    if not ok:
        return None
    return ParsedEntry(
        index=index, start_at=times["startAt"], end_at=times["endAt"], value=float(raw["value"])
    )


def _check_value(entry: ParsedEntry, *, kind: str, asset: Asset, where: dict, problems: _Problems) -> None:
    if kind in PERCENT_TYPES:
        low, high, unit = 0.0, 100.0, "%"
        bound = "0 to 100"
    else:
        low, high, unit = asset.rated_lower_kw, asset.rated_upper_kw, " kW"
        bound = f"the {asset.type} asset's rated limits"
    if not low <= entry.value <= high:
        problems.add(
            f"value {entry.value:g}{unit} is outside {bound} ({low:g} to {high:g}{unit}).",
            entry=entry.index,
            field="value",
            **where,
        )


def schedule_commands_validate(raw_commands: Any, *, assets: dict[str, Asset]) -> list[ParsedCommand]:
    """The batch's commands, parsed; ServiceError naming every offending command and entry."""
    problems = _Problems()
    if not isinstance(raw_commands, list):
        raise ServiceError(
            "schedules must be a list of schedule commands.",
            details=[{"field": "schedules", "message": "Expected a list of 1 to 10 schedule commands."}],
        )
    if not 1 <= len(raw_commands) <= 10:
        raise ServiceError(
            f"A batch holds 1 to 10 schedule commands; this one has {len(raw_commands)}.",
            details=[{"field": "schedules", "message": "Expected a list of 1 to 10 schedule commands."}],
        )
    max_entries = settings.SITES_MAX_ENTRIES_PER_COMMAND
    valid_pairs = set(SCHEDULE_PAIRS)
    seen: dict[tuple[str, str], int] = {}
    commands: list[ParsedCommand] = []
    for index, raw in enumerate(raw_commands):
        if not isinstance(raw, dict):
            problems.add("A command must be an object with asset, type and entries.", command=index)
            continue
        asset_name, kind = raw.get("asset"), raw.get("type")
        where = {"asset": asset_name, "type": kind}
        if (
            not isinstance(asset_name, str)
            or not isinstance(kind, str)
            or (asset_name, kind) not in valid_pairs
        ):
            supported = ", ".join(f"{a} + {k}" for a, k in SCHEDULE_PAIRS)
            problems.add(
                f"Unsupported asset/type combination. Supported: {supported}.", command=index, **where
            )
            continue
        if (asset_name, kind) in seen:
            problems.add(
                f"{asset_name}/{kind} appears more than once (first in command {seen[(asset_name, kind)]}).",
                command=index,
                **where,
            )
            continue
        seen[(asset_name, kind)] = index
        asset = assets.get(asset_name)
        if asset is None:
            problems.add(f"This site has no {asset_name} asset.", command=index, **where)
            continue
        raw_entries = raw.get("entries")
        if not isinstance(raw_entries, list):
            problems.add("entries must be a list (empty to clear the schedule).", command=index, **where)
            continue
        if len(raw_entries) > max_entries:
            problems.add(f"A command holds at most {max_entries} entries.", command=index, **where)
            continue
        where = {"command": index, **where}
        entries = []
        for entry_index, raw_entry in enumerate(raw_entries):
            entry = _parse_entry(raw_entry, index=entry_index, where=where, problems=problems)
            if entry is not None:
                _check_value(entry, kind=kind, asset=asset, where=where, problems=problems)
                entries.append(entry)
        ordered = sorted(entries, key=lambda e: (e.start_at, e.index))
        latest: ParsedEntry | None = None
        for entry in ordered:
            if latest is not None and entry.start_at < latest.end_at:
                problems.add(
                    f"Entry overlaps entry {latest.index} of the same command.",
                    entry=entry.index,
                    overlapsEntry=latest.index,
                    **where,
                )
            if latest is None or entry.end_at > latest.end_at:
                latest = entry
        commands.append(ParsedCommand(index=index, asset=asset_name, kind=kind, entries=tuple(entries)))

    by_pair = {command.pair: command for command in commands}
    for pair, other_pair in MUTUALLY_EXCLUSIVE.items():
        if pair > other_pair or pair not in by_pair or other_pair not in by_pair:
            continue  # each exclusive couple once
        first, second = by_pair[pair], by_pair[other_pair]
        for a in first.entries:
            for b in second.entries:
                if _overlaps(a, b):
                    problems.add(
                        f"BESS {first.kind} and {second.kind} are mutually exclusive: entry {a.index} of "
                        f"command {first.index} overlaps entry {b.index} of command {second.index}.",
                        command=second.index,
                        asset=second.asset,
                        type=second.kind,
                        entry=b.index,
                    )
    if problems.items:
        count = len(problems.items)
        raise ServiceError(
            f"The schedule was rejected: {count} problem{'s' if count > 1 else ''} found.",
            details=problems.items,
        )
    return commands


@transaction.atomic
def schedule_batch_apply(
    *,
    site: Site,
    commands: Any,
    api_key: SiteApiKey | None = None,
    sent_by: str = "",
    source: str = ScheduleBatch.Source.API,
) -> ScheduleBatch:
    """Validate a batch of schedule commands and apply it whole, or reject it whole.

    Each command replaces the not-yet-ended entries of its asset/type (an empty ``entries``
    clears them); a BESS ``activePowerkW`` command also clears ``optimalSocPcnt`` and vice
    versa. Replaced entries stay, marked ``superseded_by`` this batch, for the audit trail.
    """
    # One batch at a time per site: the replace step reads what the previous batch stored.
    Site.objects.select_for_update().filter(pk=site.pk).first()
    assets = {asset.type: asset for asset in Asset.objects.filter(site=site)}
    parsed = schedule_commands_validate(commands, assets=assets)
    now = timezone.now()
    batch = ScheduleBatch.objects.create(
        site=site,
        api_key=api_key,
        sent_by=sent_by or (f"{api_key.name} ({api_key.masked})" if api_key else "unknown"),
        source=source,
        created_at=now,
        commands=[
            {
                "asset": command.asset,
                "type": command.kind,
                "entries": [
                    {
                        "startAt": format_time(e.start_at),
                        "endAt": format_time(e.end_at),
                        "value": number(e.value),
                    }
                    for e in command.entries
                ],
            }
            for command in parsed
        ],
        accepted=sum(len(command.entries) for command in parsed),
    )
    cleared = {command.pair for command in parsed}
    cleared |= {MUTUALLY_EXCLUSIVE[pair] for pair in cleared if pair in MUTUALLY_EXCLUSIVE}
    pair_q = Q()
    for asset_name, kind in cleared:
        pair_q |= Q(asset=asset_name, kind=kind)
    ScheduleEntry.objects.filter(pair_q, site=site, superseded_by__isnull=True, end_at__gt=now).update(
        superseded_by=batch
    )
    ScheduleEntry.objects.bulk_create(
        ScheduleEntry(
            site=site,
            batch=batch,
            asset=command.asset,
            kind=command.kind,
            start_at=entry.start_at,
            end_at=entry.end_at,
            value=entry.value,
        )
        for command in parsed
        for entry in command.entries
    )
    Site.objects.filter(pk=site.pk).update(revision=uuid.uuid4())
    return batch


# --- Telemetry -----------------------------------------------------------------------------------

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


def _telemetry_validate(payload: Any, *, assets: dict[str, Asset], now: datetime) -> tuple[datetime, dict]:
    problems = _Problems()
    if not isinstance(payload, dict):
        raise ServiceError("Telemetry must be a JSON object with reportedAt and assets.")
    reported_at = parse_timestamp(payload.get("reportedAt"))
    if reported_at is None:
        problems.add("reportedAt is required: an ISO 8601 date-time with a time zone.", field="reportedAt")
    elif reported_at > now + timedelta(seconds=settings.SITES_TELEMETRY_MAX_CLOCK_SKEW):
        problems.add("reportedAt lies in the future; check the gateway's clock.", field="reportedAt")
    raw_assets = payload.get("assets")
    updates: dict[str, dict[str, float]] = {}
    if not isinstance(raw_assets, dict):
        problems.add("assets must be an object keyed by asset type.", field="assets")
        raw_assets = {}
    for asset_name, values in raw_assets.items():
        if asset_name not in assets:
            known = ", ".join(sorted(assets))
            problems.add(f"Unknown asset {asset_name!r}; this site has: {known}.", asset=asset_name)
            continue
        if not isinstance(values, dict):
            problems.add("Asset values must be an object.", asset=asset_name)
            continue
        fields = {}
        for field, value in values.items():
            if field not in TELEMETRY_FIELDS or (field in BESS_ONLY_FIELDS and asset_name != AssetType.BESS):
                problems.add(
                    f"Unknown field {field!r} for a {asset_name} asset.", asset=asset_name, field=field
                )
            elif not _is_number(value):
                problems.add(f"{field} must be a number.", asset=asset_name, field=field)
            elif field == "soc" and not 0 <= value <= 100:
                problems.add("soc must lie between 0 and 100.", asset=asset_name, field=field)
            elif field == "availableStorageCapacitykWh" and value < 0:
                problems.add(f"{field} must not be negative.", asset=asset_name, field=field)
            else:
                fields[TELEMETRY_FIELDS[field]] = float(value)
        updates[asset_name] = fields
    if problems.items:
        raise ServiceError("The telemetry was refused.", details=problems.items)
    return reported_at, updates


@transaction.atomic
def telemetry_record(*, site: Site, payload: Any) -> TelemetryResult:
    """Store what a gateway reports as the site's current state, unless it is older than what
    is stored already (reports never go back in time). Bad reports change nothing."""
    now = timezone.now()
    assets = {asset.type: asset for asset in Asset.objects.filter(site=site)}
    reported_at, updates = _telemetry_validate(payload, assets=assets, now=now)
    # A conditional update: of two concurrent reports, the older one cannot win.
    applied = (
        Site.objects.filter(pk=site.pk)
        .filter(Q(reported_at__isnull=True) | Q(reported_at__lte=reported_at))
        .update(reported_at=reported_at, revision=uuid.uuid4())
    )
    if not applied:
        stored = Site.objects.values_list("reported_at", flat=True).get(pk=site.pk)
        return TelemetryResult(applied=False, reported_at=stored)
    for asset_name, fields in updates.items():
        if fields:
            Asset.objects.filter(pk=assets[asset_name].pk).update(**fields)
    return TelemetryResult(applied=True, reported_at=reported_at)


# --- Wire formats shared with the selectors ----------------------------------------------------


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
