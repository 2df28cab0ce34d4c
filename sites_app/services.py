"""Writes of the energy sites area. API views, portal views, commands and demo data call these."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from heatportal.credentials import credential_issue, credential_revoke
from heatportal.services import ServiceError
from sites_app import selectors, telemetry
from sites_app.api.inputs import ScheduleBatchIn, ScheduleCommandIn, TelemetryIn
from sites_app.models import (
    AccessGroup,
    Asset,
    AssetType,
    ScheduleBatch,
    ScheduleEntry,
    Site,
    SiteApiKey,
    SiteDeviceToken,
)
from sites_app.schedules import cleared_pairs, schedule_commands_check, stored_commands

# --- Access groups and API keys -----------------------------------------------------------------


def access_group_create(*, name: str) -> AccessGroup:
    name = name.strip()
    if not name:
        raise ServiceError("An access group needs a name.")
    if AccessGroup.objects.filter(name=name).exists():
        raise ServiceError(f"An access group named {name!r} already exists.")
    return AccessGroup.objects.create(name=name)


def access_group_get_or_create(*, name: str) -> tuple[AccessGroup, bool]:
    """The group named ``name`` (surrounding spaces ignored), created if missing; and whether it
    was created."""
    group = AccessGroup.objects.filter(name=name.strip()).first()
    if group is not None:
        return group, False
    return access_group_create(name=name), True


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


@transaction.atomic
def schedule_batch_apply(
    *,
    site: Site,
    commands: ScheduleBatchIn | list[dict[str, Any]],
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
        commands=stored_commands(parsed),
        accepted=sum(len(command.entries) for command in parsed),
    )
    _entries_replace(site=site, batch=batch, commands=parsed, now=now)
    Site.objects.filter(pk=site.pk).update(revision=uuid.uuid4())
    return batch


def _entries_replace(
    *, site: Site, batch: ScheduleBatch, commands: list[ScheduleCommandIn], now: datetime
) -> None:
    """Mark the site's active entries of the cleared asset/types superseded by ``batch``, and
    store the batch's entries."""
    pair_q = Q()
    for asset_name, kind in cleared_pairs(commands):
        pair_q |= Q(asset=asset_name, kind=kind)
    ScheduleEntry.objects.filter(pair_q, ScheduleEntry.active_q(now), site=site).update(superseded_by=batch)
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
        for command in commands
        for entry in command.entries
    )


# --- Telemetry -----------------------------------------------------------------------------------


def telemetry_record(*, site: Site, payload: TelemetryIn | dict[str, Any]) -> telemetry.TelemetryResult:
    """Store what a gateway reports as the site's current state, unless it is older than what
    is stored already (reports never go back in time). Bad reports change nothing.

    ``payload`` is the validated body (``TelemetryIn``) or the body as a plain dict. The happy
    path is two statements in one transaction, whatever the number of assets: a conditional
    update of the site (of two concurrent reports, the older cannot win), then one update of
    all the named assets, whose row count tells whether the site has each of them (if not,
    the transaction is rolled back and the report refused).
    """
    report = payload if isinstance(payload, TelemetryIn) else TelemetryIn.parse(payload)
    refusal = telemetry.report_refusal(report, now=timezone.now())
    if refusal is not None:
        raise refusal
    try:
        with transaction.atomic():
            return _telemetry_apply(report, site_id=site.pk)
    except telemetry.UnknownAsset:
        known = selectors.asset_types(site_id=site.pk)  # after the rollback
        raise telemetry.unknown_assets_refusal(report, known=known) from None


def _telemetry_apply(report: TelemetryIn, *, site_id: uuid.UUID) -> telemetry.TelemetryResult:
    """The report's two statements (see ``sites_app.telemetry``); raises UnknownAsset when the
    site lacks a named asset."""
    moment = Site._meta.get_field("reported_at").get_db_prep_value(report.reportedAt, connection)
    site_param = Site._meta.pk.get_db_prep_value(site_id, connection)
    revision = Site._meta.get_field("revision").get_db_prep_value(uuid.uuid4(), connection)
    with connection.cursor() as cursor:
        cursor.execute(telemetry.site_report_sql(connection.vendor), [moment, revision, site_param, moment])
        applied = cursor.rowcount
    if not applied:  # older than the stored report; an asset the site lacks is still refused
        return telemetry.TelemetryResult(
            applied=False, reported_at=_stored_report(report, site_param=site_param)
        )
    values = report.values()
    if values:
        whens, params = telemetry.asset_report_params(values)
        with connection.cursor() as cursor:
            cursor.execute(
                telemetry.asset_report_sql(connection.vendor, whens, len(values)),
                [*params, site_param, *values],
            )
            updated = cursor.rowcount if whens else cursor.fetchone()[0]
        if updated != len(values):
            raise telemetry.UnknownAsset
    return telemetry.TelemetryResult(applied=True, reported_at=report.reportedAt)


def _stored_report(report: TelemetryIn, *, site_param: Any) -> datetime:
    """The stored report time, for a stale report; raises UnknownAsset when the site lacks a
    named asset."""
    with connection.cursor() as cursor:
        cursor.execute(
            telemetry.stored_report_sql(connection.vendor, len(report.assets)), [*report.assets, site_param]
        )
        stored, known = cursor.fetchone()
    if known != len(report.assets):  # (site, type) is unique: a count short means one is missing
        raise telemetry.UnknownAsset
    [stored] = telemetry.REPORTED_AT.convert(connections[DEFAULT_DB_ALIAS], [stored])
    reported_at: datetime = stored
    return reported_at
