import uuid
from datetime import datetime

from django.db import models
from django.db.models import Q

from heatportal.credentials import Credential, CredentialKind


class AccessGroup(models.Model):
    """Owns sites; its API keys see only its sites."""

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    """A hybrid energy site behind one energy gateway.

    ``reported_at`` is the time of the latest telemetry the gateway sent (the site is online
    while it is younger than ``SITE_OFFLINE_AFTER``). ``revision`` is renewed by every change the
    site list shows (telemetry, schedules), so a rendered list entry can be cached per revision.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    access_group = models.ForeignKey(AccessGroup, on_delete=models.PROTECT, related_name="sites")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    reported_at = models.DateTimeField(null=True, blank=True, editable=False)
    revision = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["access_group", "name", "id"], name="site_group_name_idx")]

    def __str__(self) -> str:
        return self.name


class AssetType(models.TextChoices):
    GRID = "grid", "Grid"
    SOLAR = "solar", "Solar"
    BESS = "bess", "BESS"
    EV = "ev", "EV chargers"
    HEATPUMP = "heatpump", "Heat pump"
    GENSET = "genset", "Genset"
    LOAD = "load", "Load"


# The document's order of asset types (grid, solar, bess, ...): pages and bodies list assets so.
ASSET_ORDER = {asset: position for position, asset in enumerate(AssetType.values)}


class ScheduleType(models.TextChoices):
    UPPER_LIMIT = "upperLimitkW", "Upper limit (kW)"
    LOWER_LIMIT = "lowerLimitkW", "Lower limit (kW)"
    ACTIVE_POWER = "activePowerkW", "Active power (kW)"
    OPTIMAL_SOC = "optimalSocPcnt", "Optimal state of charge (%)"
    SOLAR_CURTAILMENT = "solarCurtailmentPcnt", "Solar curtailment (%)"


# The five documented asset/type combinations, in the order the document lists them.
SCHEDULE_PAIRS: tuple[tuple[str, str], ...] = (
    (AssetType.GRID, ScheduleType.UPPER_LIMIT),
    (AssetType.GRID, ScheduleType.LOWER_LIMIT),
    (AssetType.GRID, ScheduleType.ACTIVE_POWER),
    (AssetType.BESS, ScheduleType.ACTIVE_POWER),
    (AssetType.BESS, ScheduleType.OPTIMAL_SOC),
    (AssetType.SOLAR, ScheduleType.SOLAR_CURTAILMENT),
)
PERCENT_TYPES = (ScheduleType.OPTIMAL_SOC, ScheduleType.SOLAR_CURTAILMENT)
# BESS activePowerkW and optimalSocPcnt are never active at once.
MUTUALLY_EXCLUSIVE = {
    (AssetType.BESS, ScheduleType.ACTIVE_POWER): (AssetType.BESS, ScheduleType.OPTIMAL_SOC),
    (AssetType.BESS, ScheduleType.OPTIMAL_SOC): (AssetType.BESS, ScheduleType.ACTIVE_POWER),
}


def _valid_pair_q() -> Q:
    q = Q()
    for asset, kind in SCHEDULE_PAIRS:
        q |= Q(asset=asset, kind=kind)
    return q


class Asset(models.Model):
    """The aggregated asset group of one type at a site (all its solar, all its BESS, ...),
    with its rated limits and the latest values the gateway reported."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="assets")
    type = models.CharField(max_length=16, choices=AssetType.choices)
    rated_upper_kw = models.FloatField("rated power upper limit (kW)")
    rated_lower_kw = models.FloatField("rated power lower limit (kW)")
    energy_capacity_kwh = models.FloatField("rated energy capacity (kWh)", null=True, blank=True)
    active_power_kw = models.FloatField(null=True, blank=True, editable=False)
    soc_pcnt = models.FloatField("state of charge (%)", null=True, blank=True, editable=False)
    available_capacity_kwh = models.FloatField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["site", "type"]
        constraints = [
            models.UniqueConstraint(fields=["site", "type"], name="asset_type_unique_per_site"),
            models.CheckConstraint(condition=Q(type__in=AssetType.values), name="asset_type_known"),
            models.CheckConstraint(
                condition=Q(rated_lower_kw__lte=models.F("rated_upper_kw")), name="asset_rated_limits_ordered"
            ),
            models.CheckConstraint(
                condition=Q(type=AssetType.BESS)
                | Q(
                    energy_capacity_kwh__isnull=True,
                    soc_pcnt__isnull=True,
                    available_capacity_kwh__isnull=True,
                ),
                name="asset_storage_fields_only_on_bess",
            ),
            models.CheckConstraint(
                condition=Q(energy_capacity_kwh__isnull=True) | Q(energy_capacity_kwh__gt=0),
                name="asset_energy_capacity_positive",
            ),
            models.CheckConstraint(
                condition=Q(soc_pcnt__isnull=True) | Q(soc_pcnt__gte=0, soc_pcnt__lte=100),
                name="asset_soc_is_a_percentage",
            ),
            models.CheckConstraint(
                condition=Q(available_capacity_kwh__isnull=True) | Q(available_capacity_kwh__gte=0),
                name="asset_available_capacity_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} · {self.type}"

    @property
    def public_id(self) -> str:
        """The document's asset id (``0-grid``): index of the aggregated group and its type."""
        return f"0-{self.type}"


class ScheduleBatch(models.Model):
    """One accepted ``POST /sites/{siteId}/schedules``: who sent it, when, what it asked for.

    The entries it stored point at it (``entries``); the entries it replaced point at it with
    ``superseded_by`` (``replaced_entries``). Together they are the audit trail.
    """

    class Source(models.TextChoices):
        API = "api", "Public API"
        PORTAL = "portal", "Portal"
        DEMO = "demo", "Demo data"
        SCENARIO = "scenario", "Scenario"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="schedule_batches")
    api_key = models.ForeignKey(
        "SiteApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="schedule_batches"
    )
    # Who sent it, as text: stays readable if the key row is ever deleted.
    sent_by = models.CharField(max_length=200)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)
    created_at = models.DateTimeField(db_index=True)
    commands = models.JSONField(help_text="The commands as received (normalised).")
    accepted = models.PositiveIntegerField(help_text="Number of entries stored.")
    # A batch made from a scenario's battery dispatch (source "scenario"): the scenario runner's
    # scenario id (another app's row: kept as a value, not a foreign key).
    scenario_id = models.UUIDField(null=True, blank=True)
    # The gateway's acknowledgement (POST /api/v1/gateway/schedules/ack): when it says it applied
    # the batch, and when the portal heard so.
    applied_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "schedule batches"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["site", "-created_at"], name="batch_site_created_idx")]

    def __str__(self) -> str:
        return f"{self.site} · {self.created_at:%Y-%m-%d %H:%M:%S}"


class TelemetryReport(models.Model):
    """One telemetry report a gateway sent: the site's history.

    One row per site and ``reportedAt`` (the primary key: a resent report stores nothing twice),
    one column per asset type's active power, and the BESS's state of charge and available
    capacity. The site's current state (``Asset`` rows) is the latest report by ``reportedAt``.
    On PostgreSQL the table is partitioned by month of ``reported_at`` (migration 0004;
    ``services.telemetry_history_sweep`` creates the months ahead and drops expired ones); the
    primary key's index serves a site's time range.
    """

    pk = models.CompositePrimaryKey("site_id", "reported_at")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    reported_at = models.DateTimeField()
    grid_kw = models.FloatField(null=True)
    solar_kw = models.FloatField(null=True)
    bess_kw = models.FloatField(null=True)
    ev_kw = models.FloatField(null=True)
    heatpump_kw = models.FloatField(null=True)
    genset_kw = models.FloatField(null=True)
    load_kw = models.FloatField(null=True)
    bess_soc_pcnt = models.FloatField(null=True)
    bess_available_kwh = models.FloatField(null=True)

    class Meta:
        ordering = ["site", "reported_at"]

    def __str__(self) -> str:
        return f"{self.site_id} · {self.reported_at:%Y-%m-%d %H:%M:%S}"


# The history's power column of each asset type.
POWER_COLUMNS = {asset: f"{asset}_kw" for asset in AssetType.values}


class ScheduleEntry(models.Model):
    """A value for one asset/type of a site over ``[start_at, end_at)``.

    Active entries have no ``superseded_by``; a later batch that replaces the asset/type (or
    clears it) sets it, so the history stays for the audit trail.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="schedule_entries")
    batch = models.ForeignKey(ScheduleBatch, on_delete=models.CASCADE, related_name="entries")
    asset = models.CharField(max_length=16, choices=AssetType.choices)
    kind = models.CharField("type", max_length=32, choices=ScheduleType.choices)
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    value = models.FloatField()
    superseded_by = models.ForeignKey(
        ScheduleBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="replaced_entries"
    )

    class Meta:
        ordering = ["site", "asset", "kind", "start_at"]
        verbose_name_plural = "schedule entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(start_at__lt=models.F("end_at")), name="schedule_entry_starts_before_end"
            ),
            models.CheckConstraint(condition=_valid_pair_q(), name="schedule_entry_documented_pair"),
            models.CheckConstraint(
                condition=~Q(kind__in=PERCENT_TYPES) | Q(value__gte=0, value__lte=100),
                name="schedule_entry_percentage_in_range",
            ),
        ]
        indexes = [
            models.Index(
                fields=["site", "end_at"],
                condition=Q(superseded_by__isnull=True),
                name="schedule_entry_active_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset}/{self.kind} {self.start_at:%Y-%m-%d %H:%M} → {self.end_at:%H:%M}: {self.value}"

    @staticmethod
    def active_q(now: datetime) -> Q:
        """Entries in force or still to come: not replaced, not ended."""
        return Q(superseded_by__isnull=True, end_at__gt=now)


class SiteApiKey(Credential):
    """A public-API key ``agk_<id>.ags_<secret>`` of one access group."""

    KINDS = (
        CredentialKind(name="site_api_key", prefix="agk_", id_length=12, separator=".ags_", secret_length=40),
    )

    access_group = models.ForeignKey(AccessGroup, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)

    class Meta:
        verbose_name = "site API key"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["access_group", "name"], name="site_api_key_name_unique_in_group"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked})"


class SiteDeviceToken(Credential):
    """The token an energy gateway on site uses for the gateway API."""

    KINDS = (
        CredentialKind(name="device_token", prefix="hdt_", id_length=12, separator=".", secret_length=40),
    )

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="device_tokens")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Rotation revokes the old token in the same transaction: one live token per site.
            models.UniqueConstraint(
                fields=["site"],
                condition=Q(revoked_at__isnull=True),
                name="one_unrevoked_device_token_per_site",
            ),
        ]

    def __str__(self) -> str:
        return self.masked
