"""The pages of issue 14 in the runner: a dataset from a site, and Apply to site (preview,
then confirmation), through Django's test client."""

from datetime import UTC, datetime

import pytest

from scenarios_app.models import Dataset
from sites_app.models import ScheduleBatch, ScheduleEntry
from tests.factories import UserFactory
from tests.scenarios_app.helpers import complete, energy_site, history
from tests.scenarios_app.test_apply import START

HISTORY_START = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def admin(client, db):
    user = UserFactory(role="Admin")
    client.force_login(user)
    client.user = user
    return client


@pytest.mark.django_db
def test_the_from_site_page_preselects_the_site(admin, main):
    site = energy_site(name="Depot")
    response = admin.get(f"/scenarios/from-site/?site={site.pk}")
    assert response.status_code == 200
    assert f'<option value="{site.pk}" selected>' in response.content.decode()


@pytest.mark.django_db
def test_the_from_site_form_creates_the_dataset_and_opens_the_scenario_form(admin, main):
    site = energy_site()
    history(site, HISTORY_START, 8, load=lambda i, k: 20.0, pv=lambda i, k: 5.0)
    form = {
        "session": str(main.pk),
        "new_key": "Depot week",
        "site": str(site.pk),
        "start": "2026-06-01T00:00",
        "end": "2026-06-01T02:00",
    }
    response = admin.post("/scenarios/from-site/", form)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/scenarios/s/{main.pk}/scenarios/new/?algo=PeakShavingLP")
    assert "p_capacity_kwh=500.0" in response["Location"]
    dataset = Dataset.objects.get(session=main, key="Depot week")
    assert len(dataset.tables["profile"]["rows"]) == 8
    page = admin.get(response["Location"]).content.decode()
    assert 'value="500.0"' in page


@pytest.mark.django_db
def test_the_from_site_form_shows_too_little_data(admin, main):
    site = energy_site()
    form = {
        "session": str(main.pk),
        "new_key": "Empty",
        "site": str(site.pk),
        "start": "2026-06-01T00:00",
        "end": "2026-06-01T02:00",
    }
    response = admin.post("/scenarios/from-site/", form)
    assert response.status_code == 200
    assert "Too little data: 8 of the 8 15-minute steps" in response.content.decode()


def apply_url(main, scenario):
    return f"/scenarios/s/{main.pk}/scenarios/{scenario.pk}/apply/"


@pytest.mark.django_db
def test_the_scenario_page_offers_apply_to_administrators_only(admin, client, main):
    scenario = complete(main)
    page = f"/scenarios/s/{main.pk}/scenarios/{scenario.pk}/"
    assert "Apply to site" in admin.get(page).content.decode()
    client.force_login(UserFactory(role="Instructor"))
    assert "Apply to site" not in client.get(page).content.decode()
    assert client.get(apply_url(main, scenario)).status_code == 403
    assert client.post(apply_url(main, scenario), {"confirm": "yes"}).status_code == 403


@pytest.mark.django_db
def test_preview_then_confirm_stores_the_batch(admin, main):
    site = energy_site(name="Depot")
    scenario = complete(main)
    form = {"site": str(site.pk), "start_at": START.strftime("%Y-%m-%dT%H:%M")}
    preview = admin.post(apply_url(main, scenario), form)
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "Preview: 4 entries for Depot" in text
    assert "The site's schedule rules accept these entries." in text
    assert 'name="confirm" value="yes"' in text
    assert not ScheduleBatch.objects.exists()
    done = admin.post(apply_url(main, scenario), {**form, "confirm": "yes"})
    assert done.status_code == 302
    assert done["Location"] == f"/sites/s/{site.pk}/"
    batch = ScheduleBatch.objects.get(site=site)
    assert (batch.source, batch.scenario_id, batch.sent_by) == ("scenario", scenario.pk, admin.user.username)
    assert ScheduleEntry.objects.filter(batch=batch).count() == 4


@pytest.mark.django_db
def test_a_refused_preview_shows_the_rules_details_and_no_confirmation(admin, main):
    site = energy_site()
    scenario = complete(main, battery_kw=[0.0, 0.0, 250.0])
    response = admin.post(apply_url(main, scenario), {"site": str(site.pk), "start_at": "2030-01-01T08:00"})
    text = response.content.decode()
    assert "The schedule was rejected: 1 problem found." in text
    assert "Entry 1: value 250 kW is outside the bess asset" in text
    assert 'name="confirm"' not in text


@pytest.mark.django_db
def test_a_scenario_that_is_not_complete_cannot_be_previewed(admin, main):
    site = energy_site()
    scenario = complete(main, status="created")
    response = admin.post(apply_url(main, scenario), {"site": str(site.pk), "start_at": "2030-01-01T08:00"})
    assert response.status_code == 200
    assert "only a complete scenario" in response.content.decode()
