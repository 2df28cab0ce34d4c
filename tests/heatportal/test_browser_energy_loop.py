"""Issue 14's loop in a real browser, on a demo-like site with two weeks of 1-minute history:
the live site page → a runner dataset from the site → a PeakShavingLP scenario on it, run by a
real worker → "Apply to site" (preview, then confirmation) → the schedule on the site page and
in the public API → the gateway fetches it (ETag, 304), acknowledges it → the audit trail and
the Changes page show the scenario, the actor and the acknowledgement."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from heatportal.accounts.models import User
from scenarios_app import services as runner
from scenarios_app.models import RunnerSession, Scenario
from sites_app import services
from sites_app.api.outputs import format_time
from sites_app.demo import DEMO_SITES, HISTORY_MINUTES, seed_history
from sites_app.models import ScheduleBatch, Site, TelemetryReport
from tests.factories import AccessGroupFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.worker]

LOOP_ASSETS = {"grid", "solar", "bess", "load"}
TAG = "peak-shaving"
KW = "\u202fkW"


@dataclass
class Loop:
    """What the loop starts from: the site and the credentials of its group and gateway."""

    site: Site
    admin: User
    session: RunnerSession
    api_key: str
    device_token: str


@pytest.fixture
def loop(transactional_db) -> Loop:
    """A demo-like site (grid, PV, BESS, load) with the demo's two weeks of 1-minute history
    ending now, an Admin, the runner's default session, an API key and the device token."""
    group = AccessGroupFactory(name="Demo utility")
    assets = tuple(asset for asset in services.STANDARD_ASSETS if asset[0] in LOOP_ASSETS)
    site, token = services.site_create(access_group=group, name="Site 1", assets=assets)
    _name, _id, scale = DEMO_SITES[0]
    assert seed_history(site=site, scale=scale, now=timezone.now()) == HISTORY_MINUTES
    _key, key_value = services.api_key_create(access_group=group, name="optimiser")
    runner.session_ensure_default()
    return Loop(
        site=site,
        admin=UserFactory(username="operator", role="Admin"),
        session=RunnerSession.objects.get(display_name="main"),
        api_key=key_value,
        device_token=token,
    )


def test_the_energy_loop_from_measured_history_to_an_acknowledged_schedule(
    sign_in, live_url, celery_worker, loop
):
    page = sign_in(loop.admin)
    site_page_is_live(page, loop.site)
    dataset_from_the_site(page, loop.site)
    scenario = peak_shaving_run_to_complete(page)
    batch = applied_to_the_site(page, scenario, loop.site)
    entries = public_api_lists_the_bess_schedule(live_url, loop, batch)
    gateway_fetches_and_acknowledges(live_url, loop, batch, entries)
    audit_trail_shows_the_acknowledgement(page, loop, batch)
    changes_page_shows_the_acknowledgement(page, batch)


# --- The steps ----------------------------------------------------------------------------------


def site_page_is_live(page: Page, site: Site) -> None:
    """The site page: the power flow of the newest report, live; the history chart's 24 hours."""
    page.goto(f"/sites/s/{site.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Online")
    newest = TelemetryReport.objects.filter(site=site).latest("reported_at")
    flow = page.get_by_role("list", name="Power flow between the site and its assets")
    expect(flow.locator("[data-flow]")).to_have_count(len(LOOP_ASSETS))
    expect(flow.locator('[data-flow="load"]')).to_contain_text(f"{newest.load_kw:.1f}{KW}")
    expect(flow.locator('[data-flow="bess"]')).to_contain_text(f"SoC {newest.bess_soc_pcnt:.1f}\u202f%")
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    chart = page.locator("#history-chart")
    expect(chart).to_have_attribute("data-range", "24h")
    expect(chart).to_have_attribute("data-ready", re.compile(r"^[1-9]\d*$"))
    assert 95 <= int(chart.get_attribute("data-points")) <= 97  # 15-minute buckets over 24 hours


def dataset_from_the_site(page: Page, site: Site) -> None:
    """The site page's link → the runner's page, the site chosen, the last 3 days filled in."""
    page.get_by_role("link", name="Create a runner dataset from this site").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dataset from a site")
    expect(page.get_by_label("Site")).to_have_value(str(site.pk))
    start, end = page.get_by_label("From (UTC)").input_value(), page.get_by_label("To (UTC)").input_value()
    assert _minutes_between(start, end) == 3 * 24 * 60
    page.get_by_label("New dataset key").fill("Site 1, last 3 days")
    page.get_by_role("button", name="Create dataset").click()
    expect(page.get_by_text("Dataset 'Site 1, last 3 days' created from the site's history.")).to_be_visible()


def peak_shaving_run_to_complete(page: Page) -> Scenario:
    """The scenario form comes filled in: PeakShavingLP on the new dataset, the BESS's rating;
    create and run it, then wait on the scenario page until the worker completes it."""
    expect(page.get_by_role("heading", level=1)).to_have_text("New scenario")
    expect(page.get_by_label("Algorithm")).to_have_value("PeakShavingLP")
    expect(page.get_by_label("Dataset")).to_have_value("Site 1, last 3 days")
    expect(page.get_by_label("Capacity (kWh)")).to_have_value("500.0")
    page.get_by_label("Tag").fill(TAG)
    page.get_by_role("button", name="Create and run").click()
    page.get_by_role("link", name=TAG, exact=True).click()
    expect(page.locator("#scenario-state [data-status-text]")).to_have_text("complete", timeout=120_000)
    scenario = Scenario.objects.get(tag=TAG)
    assert scenario.algo_name == "PeakShavingLP" and scenario.status == "complete"
    return scenario


def applied_to_the_site(page: Page, scenario: Scenario, site: Site) -> ScheduleBatch:
    """The scenario page's "Apply to site…": the preview's entries and their validation, then
    the confirmation, which lands on the site page with the schedule and the batch in the audit
    trail."""
    page.get_by_role("link", name="Apply to site…").click()
    page.get_by_label("Site").select_option(str(site.pk))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#apply-validation")).to_have_text("The site's schedule rules accept these entries.")
    rows = page.locator("#apply-entries tbody tr")
    start_at = page.get_by_label("Start (UTC)").input_value().replace("T", " ")
    expect(rows.first).to_contain_text(start_at)  # the next 15-minute step, filled in
    previewed = rows.count()
    assert previewed > 0
    assert not ScheduleBatch.objects.filter(site=site).exists()  # a preview stores nothing

    page.get_by_role("button", name=f"Apply scenario '{TAG}' to Site 1").click()
    page.wait_for_url(f"**/sites/s/{site.pk}/")
    batch = ScheduleBatch.objects.get(site=site)
    assert (batch.source, batch.scenario_id, batch.sent_by) == ("scenario", scenario.pk, "operator")
    assert batch.accepted == previewed
    expect(page.locator(".flash-success")).to_contain_text(f"{previewed} BESS entries stored")
    bess_rows = page.get_by_role("table", name="Schedule entries").get_by_role(
        "row", name=re.compile(r"^bess activePowerkW")
    )
    expect(bess_rows).to_have_count(previewed)
    row = _audit_row(page, batch)
    expect(row).to_contain_text("operator")
    expect(row.locator('[data-source="scenario"]')).to_contain_text(f"Scenario {scenario.pk}")
    expect(row.locator("td.ack")).to_have_text("not yet acknowledged")
    return batch


def public_api_lists_the_bess_schedule(live_url: str, loop: Loop, batch: ScheduleBatch) -> list[dict]:
    """``GET /api/v1/public/sites/{siteId}`` with the group's key: the BESS's entries."""
    response = httpx.get(
        f"{live_url}/api/v1/public/sites/{loop.site.pk}",
        headers={"Authorization": f"Bearer {loop.api_key}"},
    )
    assert response.status_code == 200, response.text
    schedules = response.json()["schedules"]
    assert [(command["asset"], command["type"]) for command in schedules] == [("bess", "activePowerkW")]
    entries = schedules[0]["entries"]
    assert len(entries) == batch.accepted
    return entries


def gateway_fetches_and_acknowledges(live_url: str, loop: Loop, batch: ScheduleBatch, entries: list) -> None:
    """The gateway's schedules with an ETag, 304 when unchanged, then its acknowledgement."""
    gateway = httpx.Client(
        base_url=f"{live_url}/api/v1/gateway", headers={"Authorization": f"Bearer {loop.device_token}"}
    )
    with gateway:
        fetched = gateway.get("/schedules")
        assert fetched.status_code == 200, fetched.text
        command = fetched.json()["schedules"][0]
        assert (command["batchId"], command["entries"]) == (str(batch.pk), entries)
        etag = fetched.headers["ETag"]
        again = gateway.get("/schedules", headers={"If-None-Match": etag})
        assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", etag)

        applied_at = format_time(timezone.now().replace(microsecond=0) - timedelta(seconds=5))
        ack = gateway.post("/schedules/ack", json={"batchId": str(batch.pk), "appliedAt": applied_at})
    assert ack.status_code == 200, ack.text
    assert (ack.json()["batchId"], ack.json()["appliedAt"]) == (str(batch.pk), applied_at)


def audit_trail_shows_the_acknowledgement(page: Page, loop: Loop, batch: ScheduleBatch) -> None:
    """The site page's audit trail: the batch, from the scenario, by the admin, applied."""
    batch.refresh_from_db()
    page.goto(f"/sites/s/{loop.site.pk}/")
    row = _audit_row(page, batch)
    expect(row).to_contain_text("operator")
    expect(row.locator('[data-source="scenario"]')).to_contain_text(str(batch.scenario_id))
    ack = row.locator("td.ack")
    expect(ack).to_contain_text(f"applied by the gateway at {batch.applied_at:%Y-%m-%d %H:%M:%S}")
    expect(ack).to_contain_text("acknowledged")


def changes_page_shows_the_acknowledgement(page: Page, batch: ScheduleBatch) -> None:
    """The Changes page: the batch's acknowledgement, by the site's gateway, linked to the site."""
    page.goto("/changes/")
    row = page.get_by_role("table", name="Changes").get_by_role("row").filter(has_text="Applied at")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("changed")
    expect(row).to_contain_text("site device token")  # who: the gateway, through the API
    expect(row).to_contain_text(str(batch))
    expect(row.get_by_role("link", name=str(batch))).to_have_attribute("href", f"/sites/s/{batch.site_id}/")


# --- Helpers ------------------------------------------------------------------------------------


def _audit_row(page: Page, batch: ScheduleBatch):
    rows = page.get_by_role("table", name="Audit trail").locator("tbody tr")
    return rows.filter(has_text=str(batch.pk))


def _minutes_between(start: str, end: str) -> int:
    """Minutes between two ``datetime-local`` values."""
    span = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return int(span.total_seconds() // 60)
