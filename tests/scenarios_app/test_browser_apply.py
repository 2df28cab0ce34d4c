"""Apply to site in a real browser: the scenario page's action, the preview of the entries and
their validation, then the confirmation that stores the batch."""

import pytest
from playwright.sync_api import expect

from scenarios_app import services
from scenarios_app.models import RunnerSession
from sites_app.models import ScheduleBatch, ScheduleEntry
from tests.factories import UserFactory
from tests.scenarios_app.helpers import complete, energy_site

pytestmark = pytest.mark.browser


@pytest.fixture
def main(transactional_db):
    services.session_ensure_default()
    return RunnerSession.objects.get(display_name="main")


def test_apply_to_site_previews_then_confirms(sign_in, main):
    site = energy_site(name="Depot")
    scenario = complete(main)
    admin = UserFactory(role="Admin")
    page = sign_in(admin)
    page.goto(f"/scenarios/s/{main.pk}/scenarios/{scenario.pk}/")

    page.get_by_role("link", name="Apply to site…").click()
    page.get_by_label("Site").select_option(str(site.pk))
    page.get_by_label("Start (UTC)").fill("2030-01-01T08:00")
    page.get_by_role("button", name="Preview").click()

    expect(page.locator("#apply-validation")).to_have_text("The site's schedule rules accept these entries.")
    rows = page.locator("#apply-entries tbody tr")
    expect(rows).to_have_count(4)  # eight steps, merged into four runs
    expect(rows.first).to_contain_text("2030-01-01 08:00")
    expect(rows.first).to_contain_text("2030-01-01 08:30")
    assert not ScheduleBatch.objects.exists()  # a preview stores nothing

    page.get_by_role("button", name="Apply scenario 'done' to Depot").click()
    page.wait_for_url(f"**/sites/s/{site.pk}/")
    batch = ScheduleBatch.objects.get(site=site)
    assert (batch.source, batch.scenario_id, batch.sent_by) == ("scenario", scenario.pk, admin.username)
    assert ScheduleEntry.objects.filter(batch=batch).count() == 4
