"""Writers racing each other: the database, not luck, keeps the invariants."""

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from sites_app import services
from sites_app.api.outputs import format_time
from sites_app.models import Asset, ScheduleBatch, ScheduleEntry, Site, SiteApiKey
from tests.factories import AccessGroupFactory

WORKERS = 8


def in_threads(function, arguments):
    """Run ``function`` on each argument in its own thread, each with its own connection."""

    def call(argument):
        try:
            return function(argument)
        except services.ServiceError as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(call, arguments))


@pytest.fixture
def racing_site(transactional_db):
    group = AccessGroupFactory(name="Racers")
    return services.site_create(access_group=group, name="Site 1")[0]


def test_concurrent_batches_leave_exactly_one_schedule_per_asset_type(racing_site):
    def send(value):
        entries = [
            {"startAt": "2030-06-01T08:00:00Z", "endAt": "2030-06-01T09:00:00Z", "value": value},
            {"startAt": "2030-06-01T09:00:00Z", "endAt": "2030-06-01T10:00:00Z", "value": value},
        ]
        return services.schedule_batch_apply(
            site=racing_site,
            commands=[{"asset": "grid", "type": "upperLimitkW", "entries": entries}],
            sent_by="t",
        )

    batches = in_threads(send, range(1, 17))

    assert all(isinstance(batch, ScheduleBatch) for batch in batches)
    active = ScheduleEntry.objects.filter(site=racing_site, superseded_by__isnull=True)
    assert active.count() == 2
    assert len({entry.batch_id for entry in active}) == 1
    # Every other batch's entries were replaced by exactly one later batch.
    assert ScheduleEntry.objects.filter(superseded_by__isnull=False).count() == 2 * 15


def test_concurrent_reports_keep_the_newest(racing_site):
    base = timezone.now() - timedelta(minutes=1)
    offsets = list(range(24))
    random.shuffle(offsets)

    def report(offset):
        return services.telemetry_record(
            site=racing_site,
            payload={
                "reportedAt": format_time(base + timedelta(seconds=offset)),
                "assets": {"grid": {"activePowerkW": offset}},
            },
        )

    in_threads(report, offsets)

    site = Site.objects.get(pk=racing_site.pk)
    assert site.reported_at == base + timedelta(seconds=23)
    assert Asset.objects.get(site=site, type="grid").active_power_kw == 23


def test_concurrent_key_creation_stops_at_20_active_keys(transactional_db):
    group = AccessGroupFactory(name="Keys")

    results = in_threads(
        lambda index: services.api_key_create(access_group=group, name=f"k{index}"), range(26)
    )

    assert sum(isinstance(result, tuple) for result in results) == 20
    assert SiteApiKey.objects.filter(access_group=group).count() == 20
