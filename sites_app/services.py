"""Writes of the energy sites area. API views, portal views, commands and demo data call these."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, OperationalError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from heatportal.credentials import credential_issue, credential_revoke
from heatportal.services import NotFound, ServiceError
from sites_app import history, selectors, telemetry
from sites_app.api.inputs import ScheduleBatchIn, ScheduleCommandIn, TelemetryBatchIn, TelemetryIn
from sites_app.models import (
    AccessGroup,
    Asset,
    AssetType,
    ScheduleBatch,
    ScheduleEntry,
    Site,
    SiteApiKey,
    SiteDeviceToken,
    TelemetryReport,
)
from sites_app.schedules import cleared_pairs, schedule_commands_check, stored_commands

logger = logging.getLogger(__name__)

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
    scenario_id: uuid.UUID | None = None,
) -> ScheduleBatch:
    """Validate a batch of schedule commands and apply it whole, or reject it whole.

    ``commands`` is the validated body (``ScheduleBatchIn``, from the API) or the list of
    commands as plain dicts (portal, demo data, the runner's apply), validated here the same way.
    Each command replaces the not-yet-ended entries of its asset/type (an empty ``entries``
    clears them); a BESS ``activePowerkW`` command also clears ``optimalSocPcnt`` and vice
    versa. Replaced entries stay, marked ``superseded_by`` this batch, for the audit trail.
    ``scenario_id``: the runner's scenario a batch of ``source`` scenario was made from.
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
        scenario_id=scenario_id,
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


@transaction.atomic
def schedule_batch_acknowledge(*, site: Site, batch_id: uuid.UUID, applied_at: datetime) -> ScheduleBatch:
    """Record that the site's gateway applied the batch at ``applied_at`` (``acknowledged_at``:
    now), and put it in the history of changes. The first acknowledgement counts: a repeated
    one (a gateway retrying) changes nothing. A batch of another site is as absent as a
    missing one.

    Schedule batches are their own audit trail and are not tracked field by field
    (docs/audit.md); their acknowledgement is recorded by hand, as a change of the two fields.
    """
    now = timezone.now()
    if applied_at > now + timedelta(seconds=settings.SITES_TELEMETRY_MAX_CLOCK_SKEW):
        message = "appliedAt lies in the future; check the gateway's clock."
        raise ServiceError(message, details=[{"field": "appliedAt", "message": message}])
    # Conditional: of two concurrent acknowledgements, one records.
    first = ScheduleBatch.objects.filter(site_id=site.pk, pk=batch_id, acknowledged_at__isnull=True).update(
        applied_at=applied_at, acknowledged_at=now
    )
    batch = ScheduleBatch.objects.filter(site_id=site.pk, pk=batch_id).first()
    if batch is None:
        raise NotFound("Schedule batch not found")
    if first:
        _acknowledgement_record(batch)
    return batch


def _acknowledgement_record(batch: ScheduleBatch) -> None:
    """The history of changes' entry of an acknowledgement (who: the request's device token,
    ``heatportal.audit.entry_fill``)."""
    from auditlog.diff import get_field_value
    from auditlog.models import LogEntry

    changes = {
        name: ["None", str(get_field_value(batch, ScheduleBatch._meta.get_field(name)))]
        for name in ("applied_at", "acknowledged_at")
    }
    LogEntry.objects.log_create(batch, action=LogEntry.Action.UPDATE, changes=changes)


# --- Telemetry -----------------------------------------------------------------------------------


def telemetry_record(*, site: Site, payload: TelemetryIn | dict[str, Any]) -> telemetry.TelemetryResult:
    """Keep what a gateway reports in the site's history, and store it as the site's current
    state unless it is older than what is stored already (reports never go back in time). Bad
    reports change nothing.

    ``payload`` is the validated body (``TelemetryIn``) or the body as a plain dict. The happy
    path is three statements in one transaction, whatever the number of assets: the history
    row (left as it is when the site already has one for that time), a conditional update of
    the site (of two concurrent reports, the older cannot win), then one update of all the
    named assets, whose row count tells whether the site has each of them (if not, the
    transaction is rolled back and the report refused).
    """
    report = payload if isinstance(payload, TelemetryIn) else TelemetryIn.parse(payload)
    refusal = telemetry.report_refusal(report, now=timezone.now())
    if refusal is not None:
        raise refusal
    try:
        with transaction.atomic():
            _history_store([report], site_id=site.pk)
            return _telemetry_apply(report, site_id=site.pk)
    except telemetry.UnknownAsset:
        known = selectors.asset_types(site_id=site.pk)  # after the rollback
        raise telemetry.unknown_assets_refusal(report, known=known) from None


def telemetry_batch_record(
    *, site: Site, payload: TelemetryBatchIn | dict[str, Any]
) -> telemetry.TelemetryBatchResult:
    """Keep a batch of reports (a gateway's backlog, in any order) in the site's history, and
    apply the newest one as :func:`telemetry_record` does. The batch is refused whole (400,
    nothing stored) when any report breaks a rule, each problem naming its report's index.

    Reports already in the history (same site and ``reportedAt``) are left as they are, so a
    batch sent twice stores nothing the second time. Four statements whatever the batch's
    size: the site's asset types, one insert of every report, the site's conditional update and
    the update of its assets.
    """
    batch = payload if isinstance(payload, TelemetryBatchIn) else TelemetryBatchIn.parse(payload)
    known = selectors.asset_types(site_id=site.pk)
    refusal = telemetry.batch_refusal(batch, known=known, now=timezone.now())
    if refusal is not None:
        raise refusal
    newest = batch.newest
    try:
        with transaction.atomic():
            stored = _history_store(batch.reports, site_id=site.pk)
            result = _telemetry_apply(newest, site_id=site.pk)
    except telemetry.UnknownAsset:  # an asset deleted since it was read
        known = selectors.asset_types(site_id=site.pk)
        raise telemetry.unknown_assets_refusal(newest, known=known) from None
    return telemetry.TelemetryBatchResult(
        reports=len(batch.reports), stored=stored, applied=result.applied, reported_at=result.reported_at
    )


def _history_store(reports: list[TelemetryIn], *, site_id: uuid.UUID) -> int:
    """Insert the reports into the site's history in time order (concurrent batches then lock
    their rows in the same order), leaving those it already has; returns how many were new."""
    ordered = sorted(reports, key=lambda report: report.reportedAt)
    site_param = Site._meta.pk.get_db_prep_value(site_id, connection)
    rows = telemetry.history_rows(ordered, adapt=connection.ops.adapt_datetimefield_value)
    stored = 0
    with connection.cursor() as cursor:
        for sql, chunk in telemetry.history_insert_statements(site_param, rows):
            cursor.execute(sql, chunk)
            stored += cursor.rowcount
    return stored


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


# --- The history's retention -------------------------------------------------------------------

# How long the sweep's DDL waits for the history table's lock: rather skip a run than hold up
# the ingest queued behind it.
PARTITION_LOCK_TIMEOUT = "5s"


def telemetry_history_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Delete the history older than ``SITES_TELEMETRY_RETENTION_DAYS`` (Celery beat, hourly).

    On PostgreSQL it first creates the monthly partitions of this month and the next two where
    they are missing, and drops the partitions whose whole month lies before the cutoff (the
    cheap way to delete a month); the rows left before the cutoff (in the cutoff's month and the
    default partition) are deleted. Safe to run twice. A partition whose table lock is not
    granted within ``PARTITION_LOCK_TIMEOUT`` is left to the next run (and logged).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SITES_TELEMETRY_RETENTION_DAYS)
    created = dropped = 0
    if connection.vendor == "postgresql":
        created = _history_partitions_create(now)
        dropped = _history_partitions_drop(cutoff)
    deleted, _ = TelemetryReport.objects.filter(reported_at__lt=cutoff).delete()
    return {"deleted": deleted, "partitions_created": created, "partitions_dropped": dropped}


def _history_partitions_create(now: datetime) -> int:
    """Create the partitions of this month and the next two that are missing; a month whose
    rows already sit in the default partition is skipped (and logged): PostgreSQL refuses to
    create a partition that would take rows from the default one."""
    created = 0
    for months in range(3):
        start, end = history.month_start(now, months), history.month_start(now, months + 1)
        name = telemetry.partition_name(start)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
            if cursor.fetchone()[0]:
                continue
            cursor.execute(telemetry.default_partition_rows_sql(), [start, end])
            if cursor.fetchone()[0]:
                logger.warning(
                    "Telemetry history: partition %s not created: the default partition holds rows of "
                    "%s; move them out (detach, create, re-insert) to partition that month.",
                    name,
                    f"{start:%Y-%m}",
                )
                continue
            created += _partition_ddl(cursor, telemetry.partition_create_sql(name), [start, end])
    return created


def _history_partitions_drop(cutoff: datetime) -> int:
    """Drop the monthly partitions whose whole month lies before ``cutoff``."""
    with connection.cursor() as cursor:
        cursor.execute(telemetry.partition_list_sql(), [TelemetryReport._meta.db_table])
        names = [name for (name,) in cursor.fetchall()]
    expired = []
    for name in names:
        month = telemetry.partition_month(name)
        if month is not None and history.month_start(month, 1) <= cutoff:
            expired.append(name)
    dropped = 0
    for name in sorted(expired):
        with transaction.atomic(), connection.cursor() as cursor:
            dropped += _partition_ddl(cursor, telemetry.partition_drop_sql(name))
    return dropped


def _partition_ddl(cursor: Any, sql: str, params: list[Any] | None = None) -> int:
    """Run one partition statement (in the caller's transaction), waiting at most
    ``PARTITION_LOCK_TIMEOUT`` for the table's lock; 1 when it ran, 0 when it could not (the
    lock not granted: logged, the next run tries again)."""
    cursor.execute(f"SET LOCAL lock_timeout = '{PARTITION_LOCK_TIMEOUT}'")
    try:
        with transaction.atomic():
            cursor.execute(sql, params)
    except OperationalError as error:  # the lock not granted in time, above all
        logger.warning("Telemetry history: %s not run: %s", sql, error)
        return 0
    return 1
