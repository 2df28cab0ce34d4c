"""The demo sites' two weeks of telemetry history (sites_app.demo)."""

import itertools
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from sites_app import services
from sites_app.demo import DEMO_GROUP, HISTORY_MINUTES, seed_history
from sites_app.models import POWER_COLUMNS, Asset, AssetType, Site, TelemetryReport

SCALE = {"load": 100, "solar": 120, "ev": 22, "heatpump": 10}


def _minutes(site) -> list:
    return list(
        TelemetryReport.objects.filter(site=site)
        .order_by("reported_at")
        .values_list("reported_at", flat=True)
    )


def _assert_one_report_a_minute(times: list) -> None:
    assert all(moment.second == 0 and moment.microsecond == 0 for moment in times)
    assert times[-1] - times[0] == timedelta(minutes=len(times) - 1)  # no gap, no duplicate


def _assert_current_state_is_the_newest_report(site: Site) -> None:
    newest = TelemetryReport.objects.filter(site=site).latest("reported_at")
    site.refresh_from_db()
    assert site.reported_at == newest.reported_at
    for asset in Asset.objects.filter(site=site):
        assert asset.active_power_kw == getattr(newest, POWER_COLUMNS[asset.type])
        if asset.type == AssetType.BESS:
            assert asset.soc_pcnt == newest.bess_soc_pcnt
            assert asset.available_capacity_kwh == newest.bess_available_kwh


def test_seed_demo_twice_keeps_one_report_a_minute_and_the_newest_as_current_state(db):
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    sites = Site.objects.filter(access_group__name=DEMO_GROUP)
    assert sites.count() == 3
    for site in sites:
        times = _minutes(site)
        # Two weeks ending now (one more if a minute began between the two runs).
        assert len(times) in (HISTORY_MINUTES, HISTORY_MINUTES + 1)
        _assert_one_report_a_minute(times)
        assert timezone.now() - times[-1] < timedelta(minutes=2)
        _assert_current_state_is_the_newest_report(site)


@pytest.fixture
def site(db):
    group, _created = services.access_group_get_or_create(name="Demo test")
    return services.site_create(access_group=group, name="Depot")[0]


def test_a_later_run_adds_only_the_missing_minutes(site):
    now = timezone.now()

    first = seed_history(site=site, scale=SCALE, now=now - timedelta(minutes=10))
    second = seed_history(site=site, scale=SCALE, now=now)
    third = seed_history(site=site, scale=SCALE, now=now)

    assert (first, second, third) == (HISTORY_MINUTES, 10, 0)
    times = _minutes(site)
    assert len(times) == HISTORY_MINUTES + 10
    _assert_one_report_a_minute(times)
    _assert_current_state_is_the_newest_report(site)


def test_the_history_balances_power_and_the_bess_energy(site):
    seed_history(site=site, scale=SCALE, now=timezone.now())

    reports = list(TelemetryReport.objects.filter(site=site).order_by("reported_at"))
    capacity = Asset.objects.get(site=site, type=AssetType.BESS).energy_capacity_kwh
    assert {report.genset_kw for report in reports} == {0.0}
    for before, report in itertools.pairwise(reports):
        demand = report.load_kw + report.ev_kw + report.heatpump_kw
        assert report.grid_kw == pytest.approx(demand - report.solar_kw - report.bess_kw, abs=0.25)
        assert 0 <= report.solar_kw <= 200 and -100 <= report.bess_kw <= 100
        gained = -report.bess_kw * (0.95 if report.bess_kw < 0 else 1) / 60
        assert report.bess_available_kwh == pytest.approx(before.bess_available_kwh + gained, abs=0.1)
        assert report.bess_soc_pcnt == pytest.approx(100 * report.bess_available_kwh / capacity, abs=0.1)
    assert any(report.bess_kw < 0 for report in reports) and any(report.bess_kw > 0 for report in reports)
    assert max(report.solar_kw for report in reports) > 0


def test_only_the_sites_assets_are_reported(db):
    group, _created = services.access_group_get_or_create(name="Demo test")
    site, _token = services.site_create(
        access_group=group, name="Grid and load", assets=(("grid", 500, -500, None), ("load", 400, 0, None))
    )

    seed_history(site=site, scale=SCALE, now=timezone.now())

    report = TelemetryReport.objects.filter(site=site).latest("reported_at")
    assert report.grid_kw == report.load_kw  # nothing else on the site
    assert (report.solar_kw, report.bess_kw, report.ev_kw, report.bess_soc_pcnt) == (None, None, None, None)
