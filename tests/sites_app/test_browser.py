"""The energy sites pages in a real browser."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from heatportal.credentials import credential_authenticate
from sites_app import services
from sites_app.api.outputs import format_time
from sites_app.models import AccessGroup, SiteApiKey, SiteDeviceToken, TelemetryReport
from tests.factories import UserFactory
from tests.sites_app.helpers import doc_schedules, report_now

pytestmark = pytest.mark.browser


@pytest.fixture
def admin(transactional_db):
    return UserFactory(role="Admin")


def test_the_index_lists_access_groups_and_an_admin_creates_one(sign_in, admin, site):
    services.api_key_create(access_group=site.access_group, name="ops")
    page = sign_in(admin)

    page.goto("/sites/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Energy sites")
    row = page.get_by_role("row", name=re.compile("Utility A"))
    expect(row.get_by_role("cell")).to_have_text(["1", "1", re.compile(r"\d{4}-")])
    page.get_by_label("Name").fill("Utility C")
    page.get_by_role("button", name="Create access group").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Utility C")
    assert AccessGroup.objects.filter(name="Utility C").exists()


def test_a_trainee_sees_groups_but_cannot_manage_them(sign_in, site):
    page = sign_in(UserFactory(role="Trainee"))

    page.goto(f"/sites/groups/{site.access_group.pk}/")

    expect(page.get_by_role("link", name="Site 1")).to_be_visible()
    expect(page.get_by_role("button", name="Create API key")).to_have_count(0)


def test_an_admin_creates_a_key_sees_it_once_and_revokes_it(sign_in, admin, site):
    page = sign_in(admin)
    page.goto(f"/sites/groups/{site.access_group.pk}/")

    page.get_by_label("Key name").fill("optimiser")
    page.get_by_label("Expiry date (UTC)").fill("2031-01-01")
    page.get_by_label("Expiry time, 24-hour (UTC)").fill("12:00")
    page.get_by_role("button", name="Create API key").click()

    shown = page.get_by_label("API key", exact=True).input_value()
    key = credential_authenticate(SiteApiKey.objects.all(), shown)
    assert (key.name, key.expires_at.isoformat()) == ("optimiser", "2031-01-01T12:00:00+00:00")
    row = page.get_by_role("row", name=re.compile("optimiser"))
    expect(row.get_by_role("cell").nth(0)).to_have_text(key.masked)
    expect(row).to_contain_text("2031-01-01 12:00 UTC")
    expect(row).to_contain_text("Active")

    page.reload()  # the key is not shown again
    expect(page.get_by_label("API key", exact=True)).to_have_count(0)
    assert SiteApiKey.objects.count() == 1

    page.get_by_role("button", name="Revoke optimiser").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revoke API key optimiser?")
    key.refresh_from_db()
    assert key.revoked_at is None  # asked first: nothing revoked yet
    page.get_by_role("button", name="Revoke API key optimiser").click()
    expect(page.get_by_role("row", name=re.compile("optimiser"))).to_contain_text("Revoked")
    expect(page.locator(".flash-success")).to_contain_text("Key optimiser revoked")
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_a_duplicate_key_name_is_explained(sign_in, admin, site):
    services.api_key_create(access_group=site.access_group, name="ops")
    page = sign_in(admin)
    page.goto(f"/sites/groups/{site.access_group.pk}/")

    page.get_by_label("Key name").fill("ops")
    page.get_by_role("button", name="Create API key").click()

    expect(page.get_by_role("alert")).to_contain_text("already has a key named 'ops'")


def test_the_site_page_shows_assets_a_schedule_chart_and_the_audit_trail(sign_in, site):
    key, _value = services.api_key_create(access_group=site.access_group, name="optimiser")
    first = services.schedule_batch_apply(site=site, commands=doc_schedules(), api_key=key)
    services.schedule_batch_apply(
        site=site, commands=[{"asset": "solar", "type": "solarCurtailmentPcnt", "entries": []}], api_key=key
    )
    report_now(site, grid={"activePowerkW": 120}, bess={"activePowerkW": 30, "soc": 75})
    page = sign_in(UserFactory())
    page.goto(f"/sites/groups/{site.access_group.pk}/")

    page.get_by_role("link", name="Site 1").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Online")
    assets = page.get_by_role("table", name="Assets")
    expect(assets.get_by_role("row", name=re.compile("^Grid")).get_by_role("cell").nth(0)).to_have_text(
        "120.0"
    )
    expect(assets.get_by_role("row", name=re.compile("^BESS"))).to_contain_text("75.0 %")
    # The chart: drawn by the vendored Chart.js, one row per asset/type in force.
    chart = page.locator("#schedule-chart")
    expect(chart).to_be_visible()
    page.wait_for_function("window.Chart && Chart.getChart('schedule-chart')")
    rows = page.evaluate("Chart.getChart('schedule-chart').data.labels")
    assert rows == [
        "grid · upperLimitkW",
        "grid · lowerLimitkW",
        "grid · activePowerkW",
        "bess · activePowerkW",
        "bess · optimalSocPcnt",
    ]
    assert page.evaluate("Chart.getChart('schedule-chart').getDatasetMeta(0).data[0].width") > 0
    scripts = page.locator("script[src]").evaluate_all("els => els.map(e => e.src)")
    assert any(src.endswith("/static/vendor/chart.umd.min.js") for src in scripts)
    # The audit trail, newest first: the clearing batch replaced the first batch's solar entry.
    audit = page.get_by_role("table", name="Audit trail").locator("tbody tr")
    expect(audit).to_have_count(2)
    expect(audit.nth(0)).to_contain_text(f"optimiser ({key.masked})")
    expect(audit.nth(0)).to_contain_text("solar/solarCurtailmentPcnt: cleared")
    expect(audit.nth(0)).to_contain_text(
        re.compile(r"solar/solarCurtailmentPcnt 2030-06-01 08:00 UTC . 2030-06-01 12:00 UTC: 10\.0\u202f%")
    )
    expect(audit.nth(1)).to_contain_text(str(first.pk))
    expect(audit.nth(1).get_by_role("cell").nth(2)).to_have_text("6")


def test_an_admin_rotates_the_device_token(sign_in, admin, site, device_token):
    page = sign_in(admin)
    page.goto(f"/sites/s/{site.pk}/")

    page.get_by_role("button", name="Rotate device token").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rotate the device token of Site 1?")
    assert SiteDeviceToken.objects.get(lookup_id=device_token[4:16]).revoked_at is None
    page.get_by_role("button", name="Rotate the device token of Site 1").click()

    shown = page.get_by_role("textbox", name="Device token").input_value()
    assert shown != device_token
    assert credential_authenticate(SiteDeviceToken.objects.all(), shown).site == site
    assert SiteDeviceToken.objects.get(lookup_id=device_token[4:16]).revoked_at is not None
    page.reload()  # a GET: nothing rotated again, the token not shown again
    expect(page.get_by_role("textbox", name="Device token")).to_have_count(0)
    assert SiteDeviceToken.objects.filter(site=site, revoked_at__isnull=True).count() == 1
    assert credential_authenticate(SiteDeviceToken.objects.all(), shown).site == site


def test_an_admin_creates_a_site_and_gets_its_device_token(sign_in, admin, group):
    page = sign_in(admin)
    page.goto(f"/sites/groups/{group.pk}/")

    page.get_by_label("Site name").fill("Harbour")
    page.get_by_role("button", name="Create site").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Harbour")
    shown = page.get_by_role("textbox", name="Device token").input_value()
    assert credential_authenticate(SiteDeviceToken.objects.all(), shown).site.name == "Harbour"
    expect(page.get_by_role("table", name="Assets").locator("tbody tr")).to_have_count(7)


# --- The live site page -------------------------------------------------------------------------

KW = "\u202fkW"


def _history(site, hours: int = 24):
    """A reading every 15 minutes over the last ``hours`` (setup for the chart)."""
    now = timezone.now()
    TelemetryReport.objects.bulk_create(
        TelemetryReport(
            site=site,
            reported_at=now - timedelta(minutes=15 * step),
            grid_kw=50 + step % 7,
            load_kw=80,
            bess_kw=-20,
            bess_soc_pcnt=40 + step % 50,
        )
        for step in range(1, hours * 4)
    )


def test_the_site_page_shows_a_live_power_flow_and_updates_it_without_a_reload(sign_in, site):
    report_now(
        site, grid={"activePowerkW": 120}, bess={"activePowerkW": -30, "soc": 75}, load={"activePowerkW": 90}
    )
    page = sign_in(UserFactory(role="Trainee"))
    page.goto(f"/sites/s/{site.pk}/")

    flow = page.get_by_role("list", name="Power flow between the site and its assets")
    grid, bess = flow.locator('[data-flow="grid"]'), flow.locator('[data-flow="bess"]')
    expect(grid).to_contain_text(f"120.0{KW}")
    expect(grid).to_contain_text("importing")
    expect(bess).to_contain_text(f"30.0{KW}")
    expect(bess).to_contain_text("charging")
    expect(bess).to_contain_text("SoC 75.0\u202f%")
    expect(flow.locator('[data-flow="load"]')).to_contain_text("consuming")
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    page.evaluate("window.notReloaded = true")

    report_now(site, grid={"activePowerkW": -15.5}, bess={"activePowerkW": 40, "soc": 70})

    expect(grid).to_contain_text("exporting", timeout=15_000)  # the next poll, a few seconds
    expect(grid).to_contain_text(f"15.5{KW}")
    expect(bess).to_contain_text("discharging")
    assets = page.get_by_role("table", name="Assets")
    expect(assets.get_by_role("row", name=re.compile("^Grid")).get_by_role("cell").nth(0)).to_have_text(
        "\u221215.5"
    )
    expect(assets.get_by_role("row", name=re.compile("^BESS"))).to_contain_text("70.0\u202f%")
    assert page.evaluate("window.notReloaded") is True


def test_values_of_a_site_that_goes_offline_are_marked_stale(sign_in, site, settings):
    settings.SITE_OFFLINE_AFTER = 4
    report_now(site, grid={"activePowerkW": 120})
    page = sign_in(UserFactory())
    page.goto(f"/sites/s/{site.pk}/")
    grid = page.locator('[data-flow="grid"]')
    expect(page.get_by_role("heading", level=1)).to_contain_text("Online")
    expect(grid.get_by_text("stale")).to_be_hidden()

    # No report for longer than SITE_OFFLINE_AFTER: the next poll marks the values stale.
    expect(page.get_by_role("status").filter(has_text="Stale:")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("status")).to_contain_text("the site is offline")
    expect(grid.get_by_text("stale")).to_be_visible()
    expect(grid).to_contain_text(f"120.0{KW}")  # the last values, still shown
    expect(page.get_by_role("heading", level=1)).to_contain_text("Offline")
    expect(page.get_by_text("these are its last reported values")).to_be_visible()

    page.reload()  # rendered stale by the server as well
    expect(page.get_by_role("status").filter(has_text="Stale:")).to_be_visible()
    expect(grid.get_by_text("stale")).to_be_visible()


def test_the_history_chart_draws_measured_values_against_the_schedule_and_follows_the_range(sign_in, site):
    _history(site, hours=48)
    now = timezone.now()
    services.schedule_batch_apply(
        site=site,
        commands=[
            {
                "asset": "bess",
                "type": "activePowerkW",
                "entries": [
                    {
                        "startAt": format_time(now + timedelta(minutes=1)),
                        "endAt": format_time(now + timedelta(hours=2)),
                        "value": -20,
                    }
                ],
            }
        ],
        sent_by="test",
    )
    site.schedule_entries.update(start_at=now - timedelta(hours=2))  # into the range
    page = sign_in(UserFactory())
    page.goto(f"/sites/s/{site.pk}/")

    chart = page.locator("#history-chart")
    expect(chart).to_have_attribute("data-range", "24h")
    # Grid, BESS and load power, the BESS's SoC, and the scheduled BESS set point.
    expect(chart).to_have_attribute("data-ready", "5")
    points = int(chart.get_attribute("data-points"))
    assert 94 <= points <= 97  # 15-minute buckets over 24 hours
    labels = page.evaluate("Chart.getChart('history-chart').data.datasets.map(d => d.label)")
    assert "Scheduled BESS set point (kW)" in labels and "BESS state of charge (%)" in labels
    csv = page.get_by_role("link", name=re.compile("Download CSV"))
    expect(csv).to_have_attribute("href", f"/sites/s/{site.pk}/history.csv?range=24h")

    page.get_by_label("7 days").check()

    expect(chart).to_have_attribute("data-range", "7d")
    assert 48 <= int(chart.get_attribute("data-points")) <= 50  # hourly over the 48 hours stored
    expect(csv).to_have_attribute("href", f"/sites/s/{site.pk}/history.csv?range=7d")
    expect(csv).to_contain_text("7 days")
    with page.expect_download() as download:
        csv.click()
    assert download.value.suggested_filename.startswith(f"telemetry-{site.pk}-")
