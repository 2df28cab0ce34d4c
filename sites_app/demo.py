"""Demo data of sites_app, loaded by `manage.py seed_demo`: an access group with three sites
(the first one has the document's site id), two weeks of 1-minute telemetry history ending now
(the site's current state is its newest report), schedules for the coming hours, and an API key
whose value is printed once, when it is created.

The history is made up but consistent: a load with a working-day profile, PV by daylight (a
clearness drawn per day), EV charging sessions, a heat pump working harder at night, and a BESS
that charges on PV surplus (and from the grid at night, up to a target), discharges in the
evening peak, and whose state of charge follows that energy; the grid takes the rest
(``grid = load + ev + heatpump - solar - bess``, BESS positive when discharging). Only the
assets the site has are reported. A later run tops the history up to the current minute (a
run in the same minute adds nothing), so ``make run`` stays quick after the first time.
"""

import math
import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from sites_app import services
from sites_app.api.outputs import format_time
from sites_app.models import POWER_COLUMNS, Asset, AssetType, ScheduleBatch, Site, SiteApiKey, TelemetryReport

DEMO_GROUP = "Demo utility"
DOC_SITE_ID = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")
DEMO_SITES = (
    # name, id, typical activePowerkW of each asset (the scale of its made-up history)
    (
        "Site 1",
        DOC_SITE_ID,
        {"grid": 120, "solar": 150, "bess": 30, "ev": 22, "heatpump": 10, "genset": 0, "load": 250},
    ),
    (
        "Harbour depot",
        None,
        {"grid": -40, "solar": 180, "bess": -60, "ev": 35, "heatpump": 12, "genset": 0, "load": 95},
    ),
    (
        "Hillside farm",
        None,
        {"grid": 15, "solar": 60, "bess": 0, "ev": 0, "heatpump": 18, "genset": 0, "load": 75},
    ),
)


def _schedules(start, offset: int) -> list[dict]:
    def entry(from_hour: int, to_hour: int, value: float) -> dict:
        return {
            "startAt": format_time(start + timedelta(hours=from_hour + offset)),
            "endAt": format_time(start + timedelta(hours=to_hour + offset)),
            "value": value,
        }

    return [
        {"asset": "grid", "type": "upperLimitkW", "entries": [entry(0, 2, 50), entry(2, 6, 120)]},
        {"asset": "grid", "type": "lowerLimitkW", "entries": [entry(0, 2, -20), entry(2, 6, -80)]},
        {"asset": "grid", "type": "activePowerkW", "entries": [entry(2, 4, 30)]},
        {"asset": "bess", "type": "activePowerkW", "entries": [entry(0, 2, -50), entry(4, 5, 40)]},
        {"asset": "bess", "type": "optimalSocPcnt", "entries": [entry(2, 4, 80), entry(5, 8, 60)]},
        {"asset": "solar", "type": "solarCurtailmentPcnt", "entries": [entry(0, 4, 10)]},
    ]


# --- Telemetry history ---------------------------------------------------------------------------

HISTORY_DAYS = 14
HISTORY_MINUTES = HISTORY_DAYS * 24 * 60  # 20,160 reports a site
LOCAL_OFFSET = timedelta(hours=1)  # the profiles follow a CET day
BESS_MIN_SOC, BESS_MAX_SOC, BESS_NIGHT_TARGET_SOC = 10.0, 95.0, 60.0
BESS_EFFICIENCY = 0.95  # of charging; discharging counts what leaves the battery


@dataclass
class _Bess:
    """The BESS's power limit, capacity and stored energy as the history is walked."""

    power_kw: float
    capacity_kwh: float
    energy_kwh: float

    @property
    def soc(self) -> float:
        return 100 * self.energy_kwh / self.capacity_kwh

    def power(self, *, net_load_kw: float, hour: float) -> float:
        """This minute's power (positive: discharging) by the rules of the module docstring."""
        room = (BESS_MAX_SOC - self.soc) / 100 * self.capacity_kwh
        stored = (self.soc - BESS_MIN_SOC) / 100 * self.capacity_kwh
        if net_load_kw < 0:  # PV surplus
            charge = min(-net_load_kw, self.power_kw, max(room, 0) * 60 / BESS_EFFICIENCY)
        elif 17 <= hour < 21:  # the evening peak
            return self._step(min(net_load_kw, self.power_kw, max(stored, 0) * 60))
        elif 1 <= hour < 5 and self.soc < BESS_NIGHT_TARGET_SOC:
            charge = min(self.power_kw / 2, (BESS_NIGHT_TARGET_SOC - self.soc) / 100 * self.capacity_kwh * 60)
        else:
            charge = 0.0
        return self._step(-charge)

    def _step(self, power_kw: float) -> float:
        power_kw = round(power_kw, 1)
        gained = -power_kw * (BESS_EFFICIENCY if power_kw < 0 else 1.0) / 60
        self.energy_kwh = min(max(self.energy_kwh + gained, 0.0), self.capacity_kwh)
        return power_kw


@dataclass
class _Day:
    """What is drawn once a day: how clear the sky is, whether people work."""

    clearness: float
    working: bool
    ev_blocks: set[int] = field(default_factory=set)  # quarter hours with an EV charging


def _day(local: datetime, rng: random.Random) -> _Day:
    working = local.weekday() < 5
    busy = (8, 9, 10, 13, 14, 17, 18) if working else (10, 11, 15)
    blocks = {4 * hour + quarter for hour in busy for quarter in range(4) if rng.random() < 0.6}
    return _Day(clearness=rng.uniform(0.2, 1.0), working=working, ev_blocks=blocks)


def _daylight(local: datetime) -> float:
    """0 at night, up to 1 at solar noon (12:30 local), on a day as long as the season's."""
    hours = 12 - 4 * math.cos(2 * math.pi * (local.timetuple().tm_yday + 10) / 365)
    hour = local.hour + local.minute / 60
    position = (hour - (12.5 - hours / 2)) / hours
    return math.sin(math.pi * position) ** 1.5 if 0 < position < 1 else 0.0


def _powers(local: datetime, day: _Day, scale: Mapping[str, float], rng: random.Random) -> dict[str, float]:
    """One minute's load, PV, EV and heat pump power (kW) of a site whose typical values are
    ``scale``."""
    hour = local.hour + local.minute / 60
    busy = max(0.0, math.sin(math.pi * (hour - 6) / 15)) if 6 < hour < 21 else 0.0
    load = scale["load"] * (0.35 + 0.65 * busy * (1.0 if day.working else 0.5)) * rng.uniform(0.95, 1.05)
    flicker = 1.0 if day.clearness > 0.8 else rng.uniform(0.6, 1.0)
    solar = scale["solar"] * _daylight(local) * day.clearness * flicker
    ev = (
        scale["ev"] * rng.uniform(0.8, 1.0) if (4 * local.hour + local.minute // 15) in day.ev_blocks else 0.0
    )
    heatpump = (
        scale["heatpump"] * (0.6 + 0.3 * math.cos(2 * math.pi * (hour - 4) / 24)) * rng.uniform(0.9, 1.1)
    )
    values = {"load": load, "solar": solar, "ev": ev, "heatpump": heatpump}
    return {name: round(value, 1) for name, value in values.items()}


def _bess(asset: Asset | None, *, soc: float) -> _Bess | None:
    if asset is None or not asset.energy_capacity_kwh:
        return None
    capacity = asset.energy_capacity_kwh
    power = min(asset.rated_upper_kw, -asset.rated_lower_kw)
    return _Bess(power_kw=power, capacity_kwh=capacity, energy_kwh=capacity * soc / 100)


def history_reports(
    *,
    site_id: uuid.UUID,
    assets: dict[str, Asset],
    scale: Mapping[str, float],
    start: datetime,
    minutes: int,
    soc: float,
) -> Iterator[TelemetryReport]:
    """``minutes`` reports a minute apart from ``start`` (on the minute), for a site with
    ``assets`` (by type) whose typical power is ``scale``; the BESS starts at ``soc``."""
    rng = random.Random(f"{site_id}:{start.isoformat()}")
    bess = _bess(assets.get(AssetType.BESS), soc=soc)
    day: _Day | None = None
    for minute in range(minutes):
        moment = start + timedelta(minutes=minute)
        local = moment + LOCAL_OFFSET
        if day is None or (local.hour == 0 and local.minute == 0):
            day = _day(local, rng)
        power = {
            name: value if name in assets else 0.0 for name, value in _powers(local, day, scale, rng).items()
        }
        net_load = power["load"] + power["ev"] + power["heatpump"] - power["solar"]
        power["bess"] = bess.power(net_load_kw=net_load, hour=local.hour + local.minute / 60) if bess else 0.0
        power["genset"] = 0.0
        power["grid"] = round(net_load - power["bess"], 1)
        columns = {POWER_COLUMNS[name]: power[name] for name in assets}
        if bess is not None:
            columns.update(bess_soc_pcnt=round(bess.soc, 1), bess_available_kwh=round(bess.energy_kwh, 1))
        yield TelemetryReport(site_id=site_id, reported_at=moment, **columns)


def _report_payload(report: TelemetryReport, assets: dict[str, Asset]) -> dict:
    """The gateway's body of a stored report: what the site's current state is set from."""
    body: dict[str, dict[str, float | None]] = {}
    for name in assets:
        body[name] = {"activePowerkW": getattr(report, POWER_COLUMNS[name])}
    if AssetType.BESS in body and report.bess_soc_pcnt is not None:
        body[AssetType.BESS]["soc"] = report.bess_soc_pcnt
        body[AssetType.BESS]["availableStorageCapacitykWh"] = report.bess_available_kwh
    return {"reportedAt": format_time(report.reported_at), "assets": body}


def seed_history(*, site: Site, scale: Mapping[str, float], now: datetime, soc: float = 50.0) -> int:
    """The site's history up to ``now``'s minute: two weeks of it (the BESS starting at ``soc``),
    or what is missing since its newest report; then the site's current state from the newest.
    Returns the number of reports made."""
    end = now.replace(second=0, microsecond=0)
    first = end - timedelta(minutes=HISTORY_MINUTES - 1)
    newest = (
        TelemetryReport.objects.filter(site=site, reported_at__gte=first).order_by("-reported_at").first()
    )
    start = (
        first
        if newest is None
        else newest.reported_at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    )
    minutes = int((end - start).total_seconds() // 60) + 1
    if minutes <= 0:
        return 0
    if newest is not None and newest.bess_soc_pcnt is not None:
        soc = newest.bess_soc_pcnt
    assets = {asset.type: asset for asset in Asset.objects.filter(site=site)}
    reports = list(
        history_reports(site_id=site.pk, assets=assets, scale=scale, start=start, minutes=minutes, soc=soc)
    )
    TelemetryReport.objects.bulk_create(reports, batch_size=5000, ignore_conflicts=True)
    services.telemetry_record(site=site, payload=_report_payload(reports[-1], assets))
    return len(reports)


# --- Sites --------------------------------------------------------------------------------------


def seed_sites() -> list[str]:
    """Create what is missing; return one line per thing created."""
    lines = []
    group, created = services.access_group_get_or_create(name=DEMO_GROUP)
    if created:
        lines.append(f"created access group {DEMO_GROUP}")
    now = timezone.now()
    start = now.replace(minute=0, second=0, microsecond=0)
    for position, (name, site_id, power) in enumerate(DEMO_SITES):
        site = Site.objects.filter(access_group=group, name=name).first()
        if site is None:
            if site_id is not None and Site.objects.filter(pk=site_id).exists():
                continue  # the document's id is taken by a site of another group: leave it
            site, token = services.site_create(access_group=group, name=name, site_id=site_id)
            lines.append(f"created site {name} ({site.pk}); gateway device token: {token}")
        made = seed_history(site=site, scale=power, now=now, soc=75 - 10 * position)
        if made == HISTORY_MINUTES:
            lines.append(
                f"loaded {HISTORY_DAYS} days of 1-minute telemetry history of {name} ({made:,} reports)"
            )
        if not ScheduleBatch.objects.filter(site=site).exists():
            services.schedule_batch_apply(
                site=site,
                commands=_schedules(start, position),
                sent_by="seed_demo",
                source=ScheduleBatch.Source.DEMO,
            )
            lines.append(f"scheduled site {name}")
    if not SiteApiKey.objects.filter(access_group=group, name="demo").exists():
        _key, value = services.api_key_create(access_group=group, name="demo")
        lines.append(f"created API key demo of {DEMO_GROUP} (shown once): {value}")
    return lines
