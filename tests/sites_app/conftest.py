import copy
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from heatportal.credentials import credential_issue
from sites_app import services
from sites_app.api.outputs import format_time, fragment_cache
from sites_app.models import AccessGroup, SiteApiKey

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


@pytest.fixture(autouse=True)
def _empty_fragment_cache():
    fragment_cache.clear()
    yield
    fragment_cache.clear()


@pytest.fixture
def group(db):
    return AccessGroup.objects.create(name="Utility A")


@pytest.fixture
def other_group(db):
    return AccessGroup.objects.create(name="Utility B")


@pytest.fixture
def site_and_token(group):
    return services.site_create(access_group=group, name="Site 1", site_id=DOC_SITE_ID)


@pytest.fixture
def site(site_and_token):
    return site_and_token[0]


@pytest.fixture
def device_token(site_and_token):
    return site_and_token[1]


def key_client(access_group, name: str = "integration", **fields) -> APIClient:
    key, value = credential_issue(SiteApiKey, access_group=access_group, name=name, **fields)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    client.key = key
    client.key_value = value
    return client


@pytest.fixture
def api(group) -> APIClient:
    return key_client(group)


@pytest.fixture
def gateway(device_token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {device_token}")
    return client


def report_now(site, **assets):
    """Telemetry for ``site`` reported now (so it is online)."""
    return services.telemetry_record(
        site=site,
        payload={"reportedAt": format_time(timezone.now()), "assets": assets},
    )
