"""Demo data of sites_app, loaded by `manage.py seed_demo`: an access group with three sites
(the first one has the document's site id), their latest telemetry, schedules for the coming
hours, and an API key whose value is printed once, when it is created."""

import uuid
from datetime import timedelta

from django.utils import timezone

from sites_app import services
from sites_app.api.outputs import format_time
from sites_app.models import ScheduleBatch, Site, SiteApiKey

DEMO_GROUP = "Demo utility"
DOC_SITE_ID = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")
DEMO_SITES = (
    # name, id, telemetry (activePowerkW per asset, BESS soc)
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
        if site.reported_at is None:
            assets = {asset: {"activePowerkW": value} for asset, value in power.items()}
            assets["bess"].update(
                {"soc": 75 - 10 * position, "availableStorageCapacitykWh": 375 - 50 * position}
            )
            services.telemetry_record(site=site, payload={"reportedAt": format_time(now), "assets": assets})
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
