"""Writes of the energy sites area. API views, portal views, commands and demo data call these."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from heatportal.credentials import credential_issue, credential_revoke
from heatportal.services import ServiceError
from heatportal.sqlrows import Columns
from sites_app.api.inputs import (
    Problems,
    ScheduleBatchIn,
    ScheduleCommandIn,
    ScheduleEntryIn,
    TelemetryIn,
    schedule_refusal,
    telemetry_refusal,
)
from sites_app.api.outputs import format_time, number
from sites_app.models import (
    MUTUALLY_EXCLUSIVE,
    PERCENT_TYPES,
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
def asset_save(*, asset: Asset) -> Asset:
    """Save a changed asset (the admin's edits): renews its site's revision, so that the
    public API's cached bodies show the change."""
    asset.save()
    Site.objects.filter(pk=asset.site_id).update(revision=uuid.uuid4())
    return asset


@transaction.atomic
def asset_delete(*, asset: Asset) -> None:
    site_id = asset.site_id
    asset.delete()
    Site.objects.filter(pk=site_id).update(revision=uuid.uuid4())


@transaction.atomic
def device_token_rotate(*, site: Site) -> str:
    """Revoke the site's device token and issue a new one; returns the new value (shown once)."""
    Site.objects.select_for_update().filter(pk=site.pk).first()
    for token in SiteDeviceToken.objects.filter(site=site, revoked_at__isnull=True):
        credential_revoke(token)  # one revocation path: recorded in the history of changes
    _token, value = credential_issue(SiteDeviceToken, site=site)
    return value


# --- Schedules -----------------------------------------------------------------------------------


def _overlaps(a: ScheduleEntryIn, b: ScheduleEntryIn) -> bool:
    return a.startAt < b.endAt and b.startAt < a.endAt


def _check_value(
    value: float, *, index: int, kind: str, asset: Asset, where: dict, problems: Problems
) -> None:
    if kind in PERCENT_TYPES:
        low, high, unit = 0.0, 100.0, "%"
        bound = "0 to 100"
    else:
        low, high, unit = asset.rated_lower_kw, asset.rated_upper_kw, " kW"
        bound = f"the {asset.type} asset's rated limits"
    if not low <= value <= high:
        problems.add(
            f"value {value:g}{unit} is outside {bound} ({low:g} to {high:g}{unit}).",
            entry=index,
            field="value",
            **where,
        )


def schedule_commands_check(batch: ScheduleBatchIn, *, assets: dict[str, Asset]) -> list[ScheduleCommandIn]:
    """The site's rules for a batch whose shape is right (``ScheduleBatchIn``): each asset/type
    once, assets the site has, entries that start before they end, within the asset's rated
    limits (or 0-100 %), not overlapping in one command, BESS active power and optimal soc
    never at once. Returns the commands with only their valid entries; raises ServiceError
    naming every offending command and entry."""
    problems = Problems()
    seen: dict[tuple[str, str], int] = {}
    commands: dict[tuple[str, str], tuple[int, ScheduleCommandIn, list[tuple[int, ScheduleEntryIn]]]] = {}
    for index, command in enumerate(batch.schedules):
        where = {"asset": command.asset, "type": command.type}
        if command.pair in seen:
            problems.add(
                f"{command.asset}/{command.type} appears more than once "
                f"(first in command {seen[command.pair]}).",
                command=index,
                **where,
            )
            continue
        seen[command.pair] = index
        asset = assets.get(command.asset)
        if asset is None:
            problems.add(f"This site has no {command.asset} asset.", command=index, **where)
            continue
        where = {"command": index, **where}
        entries = []
        for entry_index, entry in enumerate(command.entries):
            if entry.startAt >= entry.endAt:
                problems.add("startAt must be before endAt.", entry=entry_index, field="startAt", **where)
                continue
            _check_value(
                entry.value, index=entry_index, kind=command.type, asset=asset, where=where, problems=problems
            )
            entries.append((entry_index, entry))
        latest: tuple[int, ScheduleEntryIn] | None = None
        for entry_index, entry in sorted(entries, key=lambda item: (item[1].startAt, item[0])):
            if latest is not None and entry.startAt < latest[1].endAt:
                problems.add(
                    f"Entry overlaps entry {latest[0]} of the same command.",
                    entry=entry_index,
                    overlapsEntry=latest[0],
                    **where,
                )
            if latest is None or entry.endAt > latest[1].endAt:
                latest = (entry_index, entry)
        commands[command.pair] = (index, command, entries)

    for pair, other_pair in MUTUALLY_EXCLUSIVE.items():
        if pair > other_pair or pair not in commands or other_pair not in commands:
            continue  # each exclusive couple once
        (first_index, first, first_entries), (second_index, second, second_entries) = (
            commands[pair],
            commands[other_pair],
        )
        for a_index, a in first_entries:
            for b_index, b in second_entries:
                if _overlaps(a, b):
                    problems.add(
                        f"BESS {first.type} and {second.type} are mutually exclusive: entry {a_index} of "
                        f"command {first_index} overlaps entry {b_index} of command {second_index}.",
                        command=second_index,
                        asset=second.asset,
                        type=second.type,
                        entry=b_index,
                    )
    if problems.items:
        raise schedule_refusal(problems.items)
    return [command for _index, command, _entries in commands.values()]


@transaction.atomic
def schedule_batch_apply(
    *,
    site: Site,
    commands: ScheduleBatchIn | Any,
    api_key: SiteApiKey | None = None,
    sent_by: str = "",
    source: str = ScheduleBatch.Source.API,
) -> ScheduleBatch:
    """Validate a batch of schedule commands and apply it whole, or reject it whole.

    ``commands`` is the validated body (``ScheduleBatchIn``, from the API) or the list of
    commands as plain dicts (portal, demo data, the runner's apply), validated here the same way.
    Each command replaces the not-yet-ended entries of its asset/type (an empty ``entries``
    clears them); a BESS ``activePowerkW`` command also clears ``optimalSocPcnt`` and vice
    versa. Replaced entries stay, marked ``superseded_by`` this batch, for the audit trail.
    """
    batch_in = (
        commands if isinstance(commands, ScheduleBatchIn) else ScheduleBatchIn.parse({"schedules": commands})
    )
    # One batch at a time per site: the replace step reads what the previous batch stored.
    Site.objects.select_for_update().filter(pk=site.pk).first()
    assets = {asset.type: asset for asset in Asset.objects.filter(site=site)}
    parsed = schedule_commands_check(batch_in, assets=assets)
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
                "type": command.type,
                "entries": [
                    {
                        "startAt": format_time(e.startAt),
                        "endAt": format_time(e.endAt),
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
            kind=command.type,
            start_at=entry.startAt,
            end_at=entry.endAt,
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


def _telemetry_refusal(report: TelemetryIn, *, now: datetime) -> ServiceError | None:
    """What the site refuses in a well-formed report: a time from the future, asset types it
    does not have (one query, only when a report named one), BESS-only fields elsewhere."""
    problems = Problems()
    if report.reportedAt > now + timedelta(seconds=settings.SITES_TELEMETRY_MAX_CLOCK_SKEW):
        problems.add("reportedAt lies in the future; check the gateway's clock.", field="reportedAt")
    for asset_name, values in report.values().items():
        for field in values:
            if field in BESS_ONLY_FIELDS and asset_name != AssetType.BESS:
                problems.add(
                    f"Unknown field {field!r} for a {asset_name} asset.", asset=asset_name, field=field
                )
    return telemetry_refusal(problems.items) if problems.items else None


def _unknown_assets(report: TelemetryIn, *, site_id) -> ServiceError | None:
    known = set(Asset.objects.filter(site_id=site_id).values_list("type", flat=True))
    if known.issuperset(report.assets):
        return None
    problems = Problems()
    for asset_name in report.assets:
        if asset_name not in known:
            names = ", ".join(sorted(known))
            problems.add(f"Unknown asset {asset_name!r}; this site has: {names}.", asset=asset_name)
    return telemetry_refusal(problems.items)


def telemetry_record(*, site: Site, payload: TelemetryIn | Any) -> TelemetryResult:
    """Store what a gateway reports as the site's current state, unless it is older than what
    is stored already (reports never go back in time). Bad reports change nothing.

    ``payload`` is the validated body (``TelemetryIn``) or the body as a plain dict. The happy
    path is two statements in one transaction, whatever the number of assets: a conditional
    update of the site (of two concurrent reports, the older cannot win), then one update of
    all the named assets, whose row count tells whether the site has each of them (if not,
    the transaction is rolled back and the report refused).
    """
    report = payload if isinstance(payload, TelemetryIn) else TelemetryIn.parse(payload)
    refusal = _telemetry_refusal(report, now=timezone.now())
    if refusal is not None:
        raise refusal
    try:
        with transaction.atomic():
            return _telemetry_apply(report, site_id=site.pk)
    except _UnknownAsset:
        raise _unknown_assets(report, site_id=site.pk) from None  # after the rollback


class _UnknownAsset(Exception):
    pass


# The two statements of a report, written once (compiling them through the ORM cost several
# times their execution): table and column names from the models, every value a parameter.
# The asset update's shape depends on which assets name which fields, so it is written once per
# shape: for each telemetry column, how many assets report it (the CASE's WHENs), and how many
# assets the report names. A stale report (older than the stored one) costs one query more.


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


@functools.cache
def _site_report_sql(vendor: str) -> str:
    """Set the site's report time (and renew its revision) unless a newer report is stored:
    of two concurrent reports, the older cannot win."""
    site, reported_at = _quote(Site._meta.db_table), _quote(Site._meta.get_field("reported_at").column)
    revision, pk = _quote(Site._meta.get_field("revision").column), _quote(Site._meta.pk.column)
    return (
        f"UPDATE {site} SET {reported_at} = %s, {revision} = %s"  # noqa: S608 (names from the model)
        f" WHERE {pk} = %s AND ({reported_at} IS NULL OR {reported_at} <= %s)"
    )


@functools.lru_cache(maxsize=256)
def _asset_report_sql(vendor: str, whens: tuple[tuple[str, int], ...], assets: int) -> str:
    """``whens``: (column, number of assets reporting it) for each column set; parameters: each
    column's (type, value) pairs, then the site id, then the ``assets`` named types."""
    kind = _quote(Asset._meta.get_field("type").column)
    site = _quote(Asset._meta.get_field("site").column)
    sets = ", ".join(
        f"{_quote(column)} = CASE {' '.join([f'WHEN {kind} = %s THEN %s'] * count)} ELSE {_quote(column)} END"
        for column, count in whens
    )
    types = ", ".join(["%s"] * assets)
    table = _quote(Asset._meta.db_table)
    if not sets:  # nothing to store: count the named assets the site has
        return f"SELECT COUNT(*) FROM {table} WHERE {site} = %s AND {kind} IN ({types})"  # noqa: S608
    return f"UPDATE {table} SET {sets} WHERE {site} = %s AND {kind} IN ({types})"  # noqa: S608


_REPORTED_AT = Columns([("s", Site._meta.get_field("reported_at"))])


@functools.lru_cache(maxsize=16)
def _stored_report_sql(vendor: str, assets: int) -> str:
    """A stale report's answer: the stored report time, and how many of the ``assets`` named
    types the site has (parameters: the types, then the site id)."""
    site_table, asset_table = _quote(Site._meta.db_table), _quote(Asset._meta.db_table)
    pk, reported_at = _quote(Site._meta.pk.column), _quote(Site._meta.get_field("reported_at").column)
    kind, site = _quote(Asset._meta.get_field("type").column), _quote(Asset._meta.get_field("site").column)
    known = "0"
    if assets:
        types = ", ".join(["%s"] * assets)
        known = f"(SELECT COUNT(*) FROM {asset_table} a WHERE a.{site} = s.{pk} AND a.{kind} IN ({types}))"  # noqa: S608
    return f"SELECT s.{reported_at}, {known} FROM {site_table} s WHERE s.{pk} = %s"  # noqa: S608 (names from the models)


def _telemetry_apply(report: TelemetryIn, *, site_id) -> TelemetryResult:
    reported_at = report.reportedAt
    moment = Site._meta.get_field("reported_at").get_db_prep_value(reported_at, connection)
    site_param = Site._meta.pk.get_db_prep_value(site_id, connection)
    revision = Site._meta.get_field("revision").get_db_prep_value(uuid.uuid4(), connection)
    with connection.cursor() as cursor:
        cursor.execute(_site_report_sql(connection.vendor), [moment, revision, site_param, moment])
        applied = cursor.rowcount
    if not applied:  # older than the stored report; an asset the site lacks is still refused
        with connection.cursor() as cursor:
            cursor.execute(
                _stored_report_sql(connection.vendor, len(report.assets)), [*report.assets, site_param]
            )
            stored, known = cursor.fetchone()
        if known != len(report.assets):  # (site, type) is unique: a count short means one is missing
            raise _UnknownAsset
        [stored] = _REPORTED_AT.convert(connections[DEFAULT_DB_ALIAS], [stored])
        return TelemetryResult(applied=False, reported_at=stored)
    values = report.values()
    if values:
        whens, params = [], []
        for field, column in TELEMETRY_FIELDS.items():
            reporting = [(name, float(fields[field])) for name, fields in values.items() if field in fields]
            if reporting:
                whens.append((column, len(reporting)))
                params += [item for pair in reporting for item in pair]
        sql = _asset_report_sql(connection.vendor, tuple(whens), len(values))
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, site_param, *values])
            updated = cursor.rowcount if whens else cursor.fetchone()[0]
        if updated != len(values):
            raise _UnknownAsset
    return TelemetryResult(applied=True, reported_at=reported_at)
