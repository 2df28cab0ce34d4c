"""The scenarios area's portal pages in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from scenarios_app import algorithms, kpis, services
from scenarios_app.models import Dataset, RunnerSession, Scenario
from tests.factories import UserFactory
from tests.scenarios_app.helpers import profile_csv

pytestmark = pytest.mark.browser


@pytest.fixture
def main(transactional_db):
    services.session_ensure_default()
    return RunnerSession.objects.get(display_name="main")


def test_the_index_lists_sessions_and_creates_one(sign_in, main):
    page = sign_in(UserFactory())
    page.goto("/scenarios/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Scenarios")
    expect(page.get_by_role("row", name=re.compile("main"))).to_be_visible()
    page.get_by_label("Display name").fill("study")
    page.get_by_role("button", name="Create session").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("study")
    assert RunnerSession.objects.filter(display_name="study").exists()


def test_etl_upload_shows_its_messages_and_the_dataset_preview(sign_in, main, tmp_path):
    good, bad = tmp_path / "good" / "profile.csv", tmp_path / "bad" / "profile.csv"
    good.parent.mkdir()
    bad.parent.mkdir()
    good.write_bytes(profile_csv())
    bad.write_bytes(profile_csv(header=["timestamp", "load_kw"]))
    page = sign_in(UserFactory())
    page.goto(f"/scenarios/s/{main.pk}/")

    page.get_by_label("Dataset name").fill("broken")
    page.get_by_label("Files").set_input_files(str(bad))
    page.get_by_role("button", name="Upload").click()
    result = page.locator(".etl-result")  # shown once, on the page the upload redirects to
    expect(result).to_contain_text("Not stored")
    expect(result).to_contain_text("required column 'pv_kw' is missing")
    assert not Dataset.objects.filter(key="broken").exists()

    page.get_by_label("Dataset name").fill("uploaded")
    page.get_by_label("Files").set_input_files(str(good))
    page.get_by_role("button", name="Upload").click()
    expect(result).to_contain_text("Success")
    expect(result).to_contain_text("96 rows")
    page.reload()  # a GET: the upload is not run again, its result not shown again
    expect(result).to_have_count(0)
    assert Dataset.objects.filter(key="uploaded").count() == 1

    page.get_by_role("link", name="uploaded").click()
    expect(page.get_by_role("heading", level=2, name="profile")).to_be_visible()
    expect(page.get_by_text("96 rows; the first 50 are shown.")).to_be_visible()
    expect(page.locator("table.preview tbody tr")).to_have_count(50)


def test_the_scenario_form_is_generated_from_the_parameter_schema(sign_in, main):
    page = sign_in(UserFactory())
    page.goto(f"/scenarios/s/{main.pk}/scenarios/new/")

    page.get_by_label("Algorithm").select_option("PeakShavingLP")
    expect(page.get_by_role("group", name="Parameters of PeakShavingLP")).to_be_visible()
    expect(page.get_by_label("Capacity (kWh)")).to_have_value("200.0")
    expect(page.get_by_label("Objective")).to_have_value("peak")
    expect(page.get_by_label("Allow charging from the grid")).to_be_checked()

    page.get_by_label("Tag").fill("too-big")
    page.get_by_label("Maximum state of charge").fill("1.5")
    page.get_by_role("button", name="Create", exact=True).click()
    # The schema's bounds are the input's: the browser refuses to submit.
    expect(page.get_by_label("Maximum state of charge")).to_have_attribute("max", "1.0")
    assert page.get_by_label("Maximum state of charge").evaluate("input => input.validity.rangeOverflow")
    assert not Scenario.objects.exists()

    page.get_by_label("Maximum state of charge").fill("0.8")
    page.get_by_label("Objective").select_option("peak_and_cost")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("row", name=re.compile("too-big"))).to_be_visible()
    scenario = Scenario.objects.get(tag="too-big")
    assert scenario.algo_params["max_soc"] == 0.8 and scenario.algo_params["objective"] == "peak_and_cost"
    assert scenario.status == "created"


@pytest.mark.worker
def test_create_and_run_and_watch_the_progress_bar_reach_the_end(sign_in, main, celery_worker):
    page = sign_in(UserFactory())
    page.goto(f"/scenarios/s/{main.pk}/scenarios/new/?algo=Slow")
    page.get_by_label("Tag").fill("watched")
    page.get_by_label("Duration (s)").fill("4")
    page.get_by_role("button", name="Create and run").click()

    row = page.get_by_role("row", name=re.compile("watched"))
    expect(row).to_be_visible()
    page.evaluate("window.__not_reloaded = true")
    bar = row.get_by_role("progressbar")
    seen = set()
    for _ in range(200):
        value = float(bar.get_attribute("value"))
        seen.add(value)
        if value >= 1.0:
            break
        page.wait_for_timeout(100)
    expect(row.locator("[data-status-text]")).to_have_text("complete", timeout=30_000)
    assert float(bar.get_attribute("value")) == 1.0
    assert any(0 < value < 1 for value in seen)  # it moved through the middle, live
    expect(row.locator("[data-percent]")).to_have_text("100%")
    assert page.evaluate("window.__not_reloaded") is True  # no page reload


def test_the_scenario_page_shows_kpis_and_the_chart(sign_in, main):
    dataset = Dataset.objects.get(session=main, key="Master data")
    scenario = services.scenario_create(
        session=main, tag="lp", dataset_key="Master data", algo_name="PeakShavingLP"
    )
    profile = algorithms.Profile.from_dataset(dataset.tables, {})
    result = algorithms.run_peak_shaving(profile, scenario.algo_params, lambda progress: None)
    Scenario.objects.filter(pk=scenario.pk).update(
        status="complete", progress=1.0, result=result, kpi_values=kpis.compute_kpis(main.kpis, result)
    )
    page = sign_in(UserFactory())

    page.goto(f"/scenarios/s/{main.pk}/scenarios/{scenario.pk}/")

    expect(page.get_by_role("heading", level=1)).to_have_text("lp")
    peak = page.get_by_role("row", name=re.compile("Peak grid import"))
    expect(peak).to_contain_text("kW")
    assert float(peak.get_by_role("cell").first.inner_text()) < 100
    expect(page.locator("#result-chart")).to_have_attribute("data-ready", "5")


def test_run_and_reset_from_the_scenario_page(sign_in, main):
    user = UserFactory()
    scenario = services.scenario_create(
        session=main, tag="manual", dataset_key="Master data", algo_name="Slow", owner=user
    )
    Scenario.objects.filter(pk=scenario.pk).update(status="failed", error="ValueError: boom")
    page = sign_in(user)
    page.goto(f"/scenarios/s/{main.pk}/scenarios/{scenario.pk}/")
    expect(page.get_by_role("alert")).to_have_text("ValueError: boom")

    page.get_by_role("button", name="Reset…").click()
    assert Scenario.objects.get(pk=scenario.pk).status == "failed"  # asked first
    page.get_by_role("button", name="Reset scenario 'manual'").click()

    expect(page.locator("[data-status-text]")).to_have_text("created")
    assert Scenario.objects.get(pk=scenario.pk).status == "created"


def test_run_is_disabled_while_the_page_is_open_once_the_scenario_is_queued(sign_in, main):
    scenario = services.scenario_create(
        session=main, tag="later", dataset_key="Master data", algo_name="Slow"
    )
    page = sign_in(UserFactory(role="Admin"))  # main's scenarios are the installation's
    page.goto(f"/scenarios/s/{main.pk}/scenarios/{scenario.pk}/")
    run = page.get_by_role("button", name="Run", exact=True)
    expect(run).to_be_enabled()

    Scenario.objects.filter(pk=scenario.pk).update(status="queued")  # as a run through the API does

    expect(run).to_be_disabled(timeout=10_000)
    expect(page.locator(f"#run-why-{scenario.pk}")).to_have_text(re.compile("Queued"))
    Scenario.objects.filter(pk=scenario.pk).update(status="created")
    expect(run).to_be_enabled(timeout=10_000)
