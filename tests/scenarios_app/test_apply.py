"""POST /sessions/{sid}/scenarios/{id}/apply: a scenario's battery dispatch as a site's schedule."""

from datetime import UTC, datetime, timedelta

import pytest

from scenarios_app import runs, selectors, services
from scenarios_app.models import Dataset, Scenario
from sites_app.models import ScheduleBatch, ScheduleEntry
from tests.helpers import bearer_client
from tests.scenarios_app.helpers import API, complete, energy_site, history

START = datetime(2030, 1, 1, 8, tzinfo=UTC)


def url(scenario):
    return f"{API}/sessions/main/scenarios/{scenario.pk}/apply"


def body(site, start=START):
    return {"siteId": str(site.pk), "startAt": start.isoformat()}


@pytest.mark.django_db
def test_the_dispatch_becomes_one_batch_of_merged_runs_recorded_with_scenario_and_actor(api, main):
    site = energy_site()
    scenario = complete(main)
    response = api.post(url(scenario), body(site), format="json")
    assert response.status_code == 202, response.content
    batch = ScheduleBatch.objects.get(site=site)
    assert response.json() == {"batchId": str(batch.pk), "accepted": 4}
    assert batch.source == ScheduleBatch.Source.SCENARIO
    assert batch.scenario_id == scenario.pk
    assert batch.sent_by == api.user.username
    step = timedelta(minutes=15)
    entries = list(ScheduleEntry.objects.filter(batch=batch).order_by("start_at"))
    assert [(e.asset, e.kind) for e in entries] == [("bess", "activePowerkW")] * 4
    # 10.0 and 10.04 round to one run; the sign crosses unchanged (+ discharge).
    assert [(e.start_at, e.end_at, e.value) for e in entries] == [
        (START, START + 2 * step, 10.0),
        (START + 2 * step, START + 5 * step, -20.0),
        (START + 5 * step, START + 7 * step, 0.0),
        (START + 7 * step, START + 8 * step, 50.0),
    ]


@pytest.mark.django_db
def test_the_sites_rules_refuse_with_their_details(api, main):
    site = energy_site()
    scenario = complete(main, battery_kw=[10.0, 150.0])  # the BESS is rated ±100 kW
    response = api.post(url(scenario), body(site), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The schedule was rejected: 1 problem found.",
        "details": [
            {
                "command": 0,
                "asset": "bess",
                "type": "activePowerkW",
                "entry": 1,
                "field": "value",
                "message": "value 150 kW is outside the bess asset's rated limits (-100 to 100 kW).",
            }
        ],
    }
    assert not ScheduleBatch.objects.exists()


@pytest.mark.django_db
def test_a_site_without_bess_is_refused_by_the_rules(api, main):
    site = energy_site(bess=False)
    response = api.post(url(complete(main)), body(site), format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["message"] == "This site has no bess asset."


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Scenario.Status.CREATED, Scenario.Status.FAILED])
def test_a_scenario_that_is_not_complete_is_409(api, main, status):
    site = energy_site()
    scenario = complete(main, status=status)
    response = api.post(url(scenario), body(site), format="json")
    assert response.status_code == 409
    assert "only a complete scenario's battery dispatch can be applied" in response.json()["detail"]


@pytest.mark.django_db
def test_a_result_without_battery_is_400(api, main):
    site = energy_site()
    scenario = complete(main)
    Scenario.objects.filter(pk=scenario.pk).update(result={"series": {"battery_kw": [0.0]}, "battery": None})
    response = api.post(url(scenario), body(site), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The scenario's result has no battery dispatch (its algorithm models no battery)."
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["Instructor", "Trainee"])
def test_only_an_administrator_may_apply(main, role):
    site = energy_site()
    client = bearer_client(role)
    scenario = complete(main)
    Scenario.objects.filter(pk=scenario.pk).update(owner=client.user)  # even their own scenario
    response = client.post(url(scenario), body(site), format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only Admin may do this."}
    assert not ScheduleBatch.objects.exists()


@pytest.mark.django_db
def test_an_unknown_site_is_404(api, main):
    response = api.post(
        url(complete(main)),
        {"siteId": "00000000-0000-0000-0000-000000000000", "startAt": START.isoformat()},
        format="json",
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Site '00000000-0000-0000-0000-000000000000' not found."}


@pytest.mark.django_db
def test_an_unknown_scenario_is_404(api, main):
    site = energy_site()
    response = api.post(f"{API}/sessions/main/scenarios/nope/apply", body(site), format="json")
    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("fields", [{"startAt": "2030-01-01T08:00:00"}, {"siteId": 3}, {}])
def test_a_malformed_body_is_422(api, main, fields):
    site = energy_site()
    response = api.post(url(complete(main)), {**body(site), **fields} if fields else {}, format="json")
    assert response.status_code == 422


@pytest.mark.django_db
def test_the_preview_validates_without_storing(main):
    site = energy_site()
    preview = selectors.scenario_apply_preview(scenario=complete(main), site_id=site.pk, start_at=START)
    assert preview.check.ok
    assert len(preview.entries) == 4
    refused = selectors.scenario_apply_preview(
        scenario=complete(main, battery_kw=[-300.0], tag="big"), site_id=site.pk, start_at=START
    )
    assert not refused.check.ok
    assert refused.check.details[0]["field"] == "value"
    assert not ScheduleBatch.objects.exists()


@pytest.mark.django_db
def test_the_loop_from_site_history_through_peak_shaving_to_the_sites_schedule(api, main):
    """Measured history → dataset → PeakShavingLP with the BESS's rating → applied batch."""
    site = energy_site()
    day = datetime(2026, 6, 1, tzinfo=UTC)
    history(site, day, 96, load=lambda i, k: 40.0 + (60.0 if 36 <= i < 72 else 0.0), pv=lambda i, k: 0.0)
    response = api.post(
        f"{API}/sessions/main/data/from-site",
        {
            "new_key": "day",
            "siteId": str(site.pk),
            "from": day.isoformat(),
            "to": (day + timedelta(days=1)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    defaults = Dataset.objects.get(session=main, key="day").parameters["parameter_defaults"]
    scenario = services.scenario_create(
        session=main, tag="shave", dataset_key="day", algo_name="PeakShavingLP", algo_params=defaults
    )
    services.scenario_run(scenario=scenario)
    assert runs.session_run_next(session_id=main.pk) == "complete"
    scenario.refresh_from_db()
    assert scenario.result["optimisation"]["peak_import_kw"] < 100.0  # the battery shaved the peak
    response = api.post(url(scenario), body(site), format="json")
    assert response.status_code == 202, response.content
    entries = ScheduleEntry.objects.filter(batch_id=response.json()["batchId"]).order_by("start_at")
    assert entries.first().start_at == START
    assert entries.last().end_at == START + timedelta(days=1)
    assert all(-100 <= entry.value <= 100 for entry in entries)
