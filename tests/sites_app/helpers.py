import copy
import uuid

from django.utils import timezone
from rest_framework.test import APIClient

from heatportal.credentials import credential_issue
from sites_app import services
from sites_app.api.outputs import format_time
from sites_app.models import SiteApiKey

DOC_SITE_ID = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")

# The document's POST /sites/{siteId}/schedules example, verbatim.
DOC_SCHEDULES = [
    {
        "asset": "grid",
        "type": "upperLimitkW",
        "entries": [{"startAt": "2026-06-01T08:00:00Z", "endAt": "2026-06-01T10:00:00Z", "value": 50}],
    },
    {
        "asset": "grid",
        "type": "lowerLimitkW",
        "entries": [{"startAt": "2026-06-01T08:00:00Z", "endAt": "2026-06-01T10:00:00Z", "value": -20}],
    },
    {
        "asset": "grid",
        "type": "activePowerkW",
        "entries": [{"startAt": "2026-06-01T10:00:00Z", "endAt": "2026-06-01T12:00:00Z", "value": 30}],
    },
    {
        "asset": "bess",
        "type": "activePowerkW",
        "entries": [{"startAt": "2026-06-01T08:00:00Z", "endAt": "2026-06-01T10:00:00Z", "value": -50}],
    },
    {
        "asset": "bess",
        "type": "optimalSocPcnt",
        "entries": [{"startAt": "2026-06-01T10:00:00Z", "endAt": "2026-06-01T12:00:00Z", "value": 80}],
    },
    {
        "asset": "solar",
        "type": "solarCurtailmentPcnt",
        "entries": [{"startAt": "2026-06-01T08:00:00Z", "endAt": "2026-06-01T12:00:00Z", "value": 10}],
    },
]
FUTURE_DAY = "2030-06-01"


def doc_schedules(day: str = FUTURE_DAY) -> list[dict]:
    """The document's example batch, moved to ``day`` (its own date has passed)."""
    schedules = copy.deepcopy(DOC_SCHEDULES)
    for command in schedules:
        for entry in command["entries"]:
            entry["startAt"] = entry["startAt"].replace("2026-06-01", day)
            entry["endAt"] = entry["endAt"].replace("2026-06-01", day)
    return schedules


def key_client(access_group, name: str = "integration", **fields) -> APIClient:
    key, value = credential_issue(SiteApiKey, access_group=access_group, name=name, **fields)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    client.key = key
    client.key_value = value
    return client


def report_now(site, **assets):
    """Telemetry for ``site`` reported now (so it is online)."""
    return services.telemetry_record(
        site=site,
        payload={"reportedAt": format_time(timezone.now()), "assets": assets},
    )
