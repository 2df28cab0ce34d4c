"""Portal pages without a browser: access, errors shown in forms, and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scenarios_app import services
from scenarios_app.models import Scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/scenarios/", "/scenarios/s/00000000-0000-0000-0000-000000000000/"])
def test_pages_need_a_sign_in(client, path):
    response = client.get(path)

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_unknown_sessions_scenarios_and_datasets_are_404(signed_in, main):
    base = f"/scenarios/s/{main.pk}"
    assert signed_in.get("/scenarios/s/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert signed_in.get(f"{base}/data/nope/").status_code == 404
    assert signed_in.get(f"{base}/scenarios/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert signed_in.get(f"{base}/scenarios/new/?algo=Nope").status_code == 404


def test_a_duplicate_tag_is_shown_on_the_form(signed_in, main):
    services.scenario_create(session=main, tag="taken", dataset_key="Master data", algo_name="Slow")

    response = signed_in.post(
        f"/scenarios/s/{main.pk}/scenarios/new/",
        {"algo_name": "Slow", "tag": "taken", "dataset_key": "Master data", "p_duration": 2},
    )

    assert response.status_code == 200
    assert "A scenario with tag &#x27;taken&#x27; already exists." in response.content.decode()
    assert Scenario.objects.count() == 1


def test_run_from_the_list_queues_and_a_second_run_is_refused_with_a_message(signed_in, user, main):
    scenario = services.scenario_create(
        session=main, tag="t", dataset_key="Master data", algo_name="Slow", owner=user
    )
    url = f"/scenarios/s/{main.pk}/scenarios/{scenario.pk}/run/"

    signed_in.post(url, {"next": f"/scenarios/s/{main.pk}/"})
    response = signed_in.post(url, {"next": f"/scenarios/s/{main.pk}/"}, follow=True)

    assert Scenario.objects.get(pk=scenario.pk).status == "queued"
    assert "is queued, not created" in response.content.decode()


def test_the_session_page_query_count_does_not_grow_with_scenarios(signed_in, main):
    services.scenario_create(session=main, tag="first", dataset_key="Master data", algo_name="Slow")
    with CaptureQueriesContext(connection) as few:
        signed_in.get(f"/scenarios/s/{main.pk}/")
    for index in range(5):
        services.scenario_create(
            session=main, tag=f"more-{index}", dataset_key="Master data", algo_name="Slow"
        )
    with CaptureQueriesContext(connection) as many:
        response = signed_in.get(f"/scenarios/s/{main.pk}/")

    assert response.status_code == 200
    assert len(many) == len(few)


# --- The scenario form ------------------------------------------------------------------------


@pytest.fixture
def admin_signed_in(client, admin_user):
    """main's scenarios are the installation's: an administrator's to run."""
    client.force_login(admin_user)
    return client


def new_scenario_url(session) -> str:
    return f"/scenarios/s/{session.pk}/scenarios/new/"


def battery_form(**values) -> dict:
    return {
        "algo_name": "PeakShavingLP",
        "shown_algo": "PeakShavingLP",
        "tag": "shave",
        "dataset_key": "Master data",
        "p_capacity_kwh": 200,
        "p_power_kw": 100,
        "p_efficiency": 0.92,
        "p_initial_soc": 0.5,
        "p_min_soc": 0.1,
        "p_max_soc": 0.9,
        "p_allow_grid_charging": "on",
        "p_objective": "peak",
        "p_demand_charge_eur_per_kw": 15,
        **values,
    }


def test_a_minimum_soc_above_the_maximum_is_refused_at_its_field_in_words(signed_in, main):
    response = signed_in.post(new_scenario_url(main), battery_form(p_min_soc=0.9, p_max_soc=0.1))

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "p_min_soc": ["The minimum state of charge must be below the maximum."]
    }
    assert "The minimum state of charge must be below the maximum." in response.content.decode()
    assert not Scenario.objects.exists()


def test_a_valid_battery_scenario_is_created(signed_in, main):
    response = signed_in.post(new_scenario_url(main), battery_form())

    assert response.status_code == 302
    assert Scenario.objects.get().algo_params["min_soc"] == 0.1


def test_switching_the_algorithm_keeps_the_tag_and_the_shared_parameters(signed_in, main):
    typed = battery_form(tag="my study", p_capacity_kwh=350, algo_name="SelfConsumption")

    response = signed_in.post(new_scenario_url(main), typed, follow=True)

    assert not Scenario.objects.exists()
    form = response.context["form"]
    assert response.context["algorithm"].name == "SelfConsumption"
    assert not form.is_bound
    assert form.initial["tag"] == "my study"
    assert form.initial["p_capacity_kwh"] == "350"
    page = response.content.decode()
    assert 'value="my study"' in page and 'value="350"' in page
    assert "p_objective" not in form.initial  # PeakShavingLP's own parameter is not carried over


def test_the_no_script_choose_button_switches_too(signed_in, main):
    typed = {"algo_name": "Slow", "shown_algo": "Slow", "tag": "t1", "switch": ""}

    response = signed_in.post(new_scenario_url(main), typed)

    assert response.status_code == 302
    assert response["Location"].endswith("?algo=Slow&tag=t1")
    assert not Scenario.objects.exists()


def test_the_algorithm_description_shows_code_spans_as_code(signed_in, main):
    response = signed_in.get(new_scenario_url(main) + "?algo=Slow")

    page = response.content.decode()
    assert "Waits <code>duration</code> seconds" in page
    assert "`duration`" not in page


@pytest.mark.parametrize("status", ["queued", "processing"])
def test_run_is_disabled_with_its_reason_while_queued_or_processing(admin_signed_in, main, status):
    scenario = services.scenario_create(session=main, tag="t", dataset_key="Master data", algo_name="Slow")
    Scenario.objects.filter(pk=scenario.pk).update(status=status)

    for url in (f"/scenarios/s/{main.pk}/scenarios/{scenario.pk}/", f"/scenarios/s/{main.pk}/"):
        page = admin_signed_in.get(url).content.decode()
        assert f'data-run-for="{scenario.pk}" aria-describedby="run-why-{scenario.pk}" disabled>Run' in page
        reason = page.split(f'id="run-why-{scenario.pk}"')[1].split("</span>")[0]
        assert "hidden" not in reason.split(">")[0]
        assert ("Queued" if status == "queued" else "Running now") in reason


def test_run_is_enabled_on_a_created_scenario(admin_signed_in, main):
    scenario = services.scenario_create(session=main, tag="t", dataset_key="Master data", algo_name="Slow")

    page = admin_signed_in.get(f"/scenarios/s/{main.pk}/scenarios/{scenario.pk}/").content.decode()

    assert f'aria-describedby="run-why-{scenario.pk}">Run' in page


def test_a_refused_run_speaks_of_the_reset_button_not_the_api(admin_signed_in, main):
    scenario = services.scenario_create(session=main, tag="t", dataset_key="Master data", algo_name="Slow")
    Scenario.objects.filter(pk=scenario.pk).update(status="complete")

    response = admin_signed_in.post(f"/scenarios/s/{main.pk}/scenarios/{scenario.pk}/run/", follow=True)

    page = response.content.decode()
    assert "Reset it first with the Reset button." in page
    assert "POST" not in page and ".../reset" not in page
