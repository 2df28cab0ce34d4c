"""Telemetry history (issue 14): every report kept once per site and time, batches of a backlog
in any order, the current state the newest report, retention and (PostgreSQL) monthly partitions."""

import logging
import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sites_app import history, services, tasks, telemetry
from sites_app.api.outputs import format_time
from sites_app.models import Asset, Site, TelemetryReport

TELEMETRY = "/api/v1/gateway/telemetry"
postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="monthly partitions are PostgreSQL's"
)


def report(moment: datetime, n: int) -> dict:
    """A report whose values say which one it is (``n``)."""
    return {
        "reportedAt": format_time(moment),
        "assets": {
            "grid": {"activePowerkW": 100 + n},
            "load": {"activePowerkW": 50 + n},
            "bess": {"activePowerkW": -n, "soc": n % 101, "availableStorageCapacitykWh": 400 - n % 400},
        },
    }


def backlog(count: int, *, newest: datetime) -> list[dict]:
    """``count`` reports a second apart, ending at ``newest`` (its report is number 0)."""
    return [report(newest - timedelta(seconds=n), n) for n in range(count)]


def assets(site) -> dict:
    return {
        asset.type: (asset.active_power_kw, asset.soc_pcnt, asset.available_capacity_kwh)
        for asset in Asset.objects.filter(site=site)
    }


def now_s() -> datetime:
    return timezone.now().replace(microsecond=0)


def test_a_backlog_sent_out_of_order_twice_is_stored_once_and_the_newest_is_current(gateway, site):
    newest = now_s()
    reports = backlog(1000, newest=newest)
    random.Random(14).shuffle(reports)

    first = gateway.post(TELEMETRY, {"reports": reports}, format="json")
    random.Random(41).shuffle(reports)
    second = gateway.post(TELEMETRY, {"reports": reports}, format="json")

    assert first.status_code == second.status_code == 200
    assert first.json() == {
        "reports": 1000,
        "stored": 1000,
        "applied": True,
        "reportedAt": format_time(newest),
    }
    assert second.json()["stored"] == 0
    assert TelemetryReport.objects.filter(site=site).count() == 1000
    assert Site.objects.get(pk=site.pk).reported_at == newest
    current = assets(site)
    assert current["grid"] == (100, None, None) and current["load"] == (50, None, None)
    assert current["bess"] == (0, 0, 400)
    assert current["solar"] == (None, None, None)  # never reported
    row = TelemetryReport.objects.get(site=site, reported_at=newest - timedelta(seconds=7))
    assert (row.grid_kw, row.load_kw, row.bess_kw, row.bess_soc_pcnt, row.bess_available_kwh) == (
        107,
        57,
        -7,
        7,
        393,
    )
    assert row.solar_kw is None


def test_a_batch_older_than_the_current_state_is_kept_but_not_applied(gateway, site):
    now = now_s()
    gateway.post(TELEMETRY, report(now, 0), format="json")

    response = gateway.post(
        TELEMETRY, {"reports": backlog(10, newest=now - timedelta(minutes=5))}, format="json"
    )

    body = response.json()
    assert (body["stored"], body["applied"], body["reportedAt"]) == (10, False, format_time(now))
    assert "older" in body["message"]
    assert assets(site)["grid"][0] == 100
    assert TelemetryReport.objects.filter(site=site).count() == 11


def test_single_reports_are_kept_too_an_older_one_as_well(gateway, site):
    now = now_s()

    gateway.post(TELEMETRY, report(now, 1), format="json")
    stale = gateway.post(TELEMETRY, report(now - timedelta(minutes=1), 2), format="json")
    gateway.post(TELEMETRY, report(now, 3), format="json")  # the same time again: kept once

    assert stale.json()["applied"] is False
    rows = list(TelemetryReport.objects.filter(site=site).order_by("reported_at"))
    assert [(row.reported_at, row.grid_kw) for row in rows] == [
        (now - timedelta(minutes=1), 102),
        (now, 101),
    ]


@pytest.mark.parametrize(
    ("bad", "detail"),
    [
        ({"reportedAt": "yesterday", "assets": {}}, {"report": 3, "field": "reportedAt"}),
        ({"reportedAt": "2031-01-01T00:00:00Z", "assets": {}}, {"report": 3, "field": "reportedAt"}),
        ({"reportedAt": "NOW", "assets": {"wind": {"activePowerkW": 1}}}, {"report": 3, "asset": "wind"}),
        ({"reportedAt": "NOW", "assets": {"bess": {"soc": 101}}}, {"report": 3, "field": "soc"}),
        ({"reportedAt": "NOW", "assets": {"grid": {"soc": 5}}}, {"report": 3, "asset": "grid"}),
        ({"reportedAt": "NOW", "assets": {"grid": {"activePowerkW": "5"}}}, {"report": 3, "asset": "grid"}),
        ({"reportedAt": "NOW", "assets": {"grid": {"activePowerkW": True}}}, {"report": 3, "asset": "grid"}),
        ("a report", {"report": 3}),
    ],
    ids=[
        "bad-time",
        "future",
        "unknown-asset",
        "soc-range",
        "soc-on-grid",
        "string",
        "boolean",
        "not-object",
    ],
)
def test_a_batch_with_one_bad_report_is_refused_whole(gateway, site, bad, detail):
    if isinstance(bad, dict) and bad["reportedAt"] == "NOW":
        bad = {**bad, "reportedAt": format_time(now_s())}
    reports = backlog(5, newest=now_s() - timedelta(minutes=1))
    reports[3] = bad
    before = Site.objects.get(pk=site.pk).revision

    response = gateway.post(TELEMETRY, {"reports": reports}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "validation_error"
    assert any(detail.items() <= item.items() for item in body["details"]), body
    assert all(item["report"] == 3 for item in body["details"])
    assert not TelemetryReport.objects.exists()
    assert Site.objects.get(pk=site.pk).revision == before


def test_the_messages_name_what_is_wrong(gateway, site):
    reports = backlog(3, newest=now_s())
    reports[1]["assets"] = {"grid": {"activePowerkW": None}, "bess": {"availableStorageCapacitykWh": -1}}

    details = gateway.post(TELEMETRY, {"reports": reports}, format="json").json()["details"]

    assert details == [
        {
            "report": 1,
            "asset": "grid",
            "field": "activePowerkW",
            "message": "activePowerkW must be a number.",
        },
        {
            "report": 1,
            "asset": "bess",
            "field": "availableStorageCapacitykWh",
            "message": "availableStorageCapacitykWh must not be negative.",
        },
    ]


@pytest.mark.parametrize(
    ("reports", "message"),
    [
        ([], "A batch holds 1 to 1,000 reports; this one has 0."),
        ("many", "reports must be a list of telemetry reports."),
        (None, "reports must be a list of telemetry reports."),
    ],
)
def test_a_batch_must_hold_1_to_1000_reports(gateway, site, reports, message):
    response = gateway.post(TELEMETRY, {"reports": reports}, format="json")

    assert response.status_code == 400
    assert response.json()["details"] == [{"field": "reports", "message": message}]


def test_a_batch_over_the_limit_is_refused_unread(gateway, site, settings):
    settings.SITES_TELEMETRY_MAX_BATCH = 10
    reports = [*backlog(10, newest=now_s()), "not even a report"]

    response = gateway.post(TELEMETRY, {"reports": reports}, format="json")

    assert response.status_code == 400
    assert response.json()["details"] == [
        {"field": "reports", "message": "A batch holds 1 to 10 reports; this one has 11."}
    ]
    assert not TelemetryReport.objects.exists()


@pytest.mark.parametrize("size", [1, 1000])
def test_a_batch_costs_four_statements_whatever_its_size(gateway, site, size):
    gateway.get("/api/v1/gateway/site")  # the token verified and cached
    body = {"reports": backlog(size, newest=now_s())}

    with CaptureQueriesContext(connection) as captured:
        response = gateway.post(TELEMETRY, body, format="json")

    assert response.status_code == 200
    sql = [query["sql"] for query in captured if not query["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    # the site's asset types, the history insert, the site's update, the assets' update
    assert len(sql) == 4, sql


def test_the_service_takes_plain_dicts(site):
    result = services.telemetry_batch_record(site=site, payload={"reports": backlog(3, newest=now_s())})

    assert (result.reports, result.stored, result.applied) == (3, 3, True)


# --- Retention -----------------------------------------------------------------------------------


def store(site, *moments: datetime) -> None:
    TelemetryReport.objects.bulk_create(TelemetryReport(site=site, reported_at=moment) for moment in moments)


def test_the_sweep_deletes_history_older_than_the_retention(site, settings):
    settings.SITES_TELEMETRY_RETENTION_DAYS = 30
    now = now_s()
    store(site, now - timedelta(days=31), now - timedelta(days=30, seconds=1), now - timedelta(days=29), now)

    result = services.telemetry_history_sweep(now=now)

    assert result["deleted"] == 2
    assert sorted(TelemetryReport.objects.values_list("reported_at", flat=True)) == [
        now - timedelta(days=29),
        now,
    ]
    assert services.telemetry_history_sweep(now=now)["deleted"] == 0  # safe to run twice


def test_the_task_runs_the_sweep(site, settings):
    settings.SITES_TELEMETRY_RETENTION_DAYS = 1
    store(site, timezone.now() - timedelta(days=2))

    result = tasks.telemetry_history_sweep()

    assert result["deleted"] == 1
    assert not TelemetryReport.objects.exists()


@pytest.mark.worker
def test_the_sweep_runs_on_a_real_worker(celery_worker, site):
    store(site, timezone.now() - timedelta(days=401), timezone.now())  # default retention: 400 days

    tasks.telemetry_history_sweep.delay()  # routed to the sweeps queue

    deadline = time.monotonic() + 30
    while TelemetryReport.objects.count() > 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert TelemetryReport.objects.count() == 1


def partitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(telemetry.partition_list_sql(), [TelemetryReport._meta.db_table])
        return {name for (name,) in cursor.fetchall()}


@postgresql_only
def test_the_sweep_creates_the_months_ahead(db):
    later = history.month_start(timezone.now(), 5)

    result = services.telemetry_history_sweep(now=later)

    assert result["partitions_created"] == 3
    names = {telemetry.partition_name(history.month_start(later, months)) for months in range(3)}
    assert names <= partitions()
    assert services.telemetry_history_sweep(now=later)["partitions_created"] == 0


@postgresql_only
def test_a_month_with_rows_in_the_default_partition_is_skipped_and_logged(site, caplog):
    later = history.month_start(timezone.now(), 6)
    store(site, later + timedelta(days=40))  # the month after: no partition yet, so the default one

    with caplog.at_level(logging.WARNING, logger="sites_app.services"):
        result = services.telemetry_history_sweep(now=later)

    assert result["partitions_created"] == 2
    blocked = telemetry.partition_name(history.month_start(later, 1))
    assert blocked not in partitions()
    assert blocked in caplog.text
    assert TelemetryReport.objects.count() == 1


@postgresql_only
def test_the_sweep_drops_the_months_wholly_before_the_cutoff(site, settings):
    settings.SITES_TELEMETRY_RETENTION_DAYS = 10
    this_month = history.month_start(timezone.now())
    store(site, this_month - timedelta(days=3), this_month + timedelta(days=3))  # last month, this month
    with connection.cursor() as cursor:  # as if stored by an earlier transaction: no pending FK checks
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    later = history.month_start(this_month, 1) + timedelta(days=12)  # cutoff: 2 days into next month

    result = services.telemetry_history_sweep(now=later)

    assert result["partitions_dropped"] == 2  # last month's and this month's partitions
    assert telemetry.partition_name(this_month) not in partitions()
    assert telemetry.partition_name(history.month_start(this_month, 1)) in partitions()
    assert not TelemetryReport.objects.exists()


def test_partition_names_give_their_month():
    month = datetime(2027, 3, 1, tzinfo=UTC)

    assert telemetry.partition_month(telemetry.partition_name(month)) == month
    assert telemetry.partition_month("sites_app_telemetryreport_default") is None
