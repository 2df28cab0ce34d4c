"""Scenario runs on real Celery worker processes: every state transition, the queue per session,
failures, and a worker killed mid-run."""

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

from scenarios_app import services
from scenarios_app.models import Scenario
from tests.helpers import bearer_client
from tests.scenarios_app.helpers import API, create_scenario
from tests.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def status(api, scenario_id, sid="main") -> dict:
    response = api.get(f"{API}/sessions/{sid}/scenarios/{scenario_id}/status")
    assert response.status_code == 200
    return response.json()


def finished(api, scenario_id, sid="main"):
    body = status(api, scenario_id, sid)
    return body if body["status"] in ("complete", "failed") else None


@pytest.fixture
def api(main):
    return bearer_client("Admin")


def test_created_queued_processing_complete_with_progress_and_kpis(celery_worker, api):
    scenario = create_scenario(api, algo_params={"duration": 3})
    assert scenario["status"] == "created"

    started = time.monotonic()
    response = api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/run")
    assert time.monotonic() - started < 1.0  # answered at once, not after the run
    assert response.status_code == 202 and response.json()["status"] == "queued"

    seen = wait_for(lambda: (body := status(api, scenario["id"]))["status"] == "processing" and body)
    assert 0.0 <= seen["progress"] < 1.0
    progresses = []
    while (body := status(api, scenario["id"]))["status"] == "processing":
        progresses.append(body["progress"])
        time.sleep(0.1)
    assert body == {"id": scenario["id"], "tag": "run", "status": "complete", "progress": 1.0}
    assert any(0.0 < value < 1.0 for value in progresses)
    assert progresses == sorted(progresses)  # it only moves forward

    full = api.get(f"{API}/sessions/main/scenarios/{scenario['id']}").json()
    assert full["result"]["duration"] == 3
    assert full["kpis"]["peak_import_kw"]["value"] > 0
    assert full["kpis"]["battery_cycles"]["value"] == 0.0
    assert api.get(f"{API}/sessions/main/processing").json() is None


def test_peak_shaving_lowers_the_peak_import(celery_worker, api):
    shaved = create_scenario(api, tag="lp", algo_name="PeakShavingLP", algo_params={"capacity_kwh": 300})
    baseline = create_scenario(api, tag="base", algo_params={"duration": 1})
    for scenario in (shaved, baseline):
        api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/run")

    for scenario in (shaved, baseline):
        assert wait_for(lambda s=scenario: finished(api, s["id"]))["status"] == "complete"

    lp = api.get(f"{API}/sessions/main/scenarios/{shaved['id']}").json()
    base = api.get(f"{API}/sessions/main/scenarios/{baseline['id']}").json()
    assert lp["kpis"]["peak_import_kw"]["value"] < 0.8 * base["kpis"]["peak_import_kw"]["value"]
    assert lp["kpis"]["battery_cycles"]["value"] > 0
    series = lp["result"]["series"]
    assert max(series["grid_import_kw"]) == pytest.approx(lp["kpis"]["peak_import_kw"]["value"], abs=1e-3)
    assert all(0.1 - 1e-6 <= value <= 0.9 + 1e-6 for value in series["soc"])
    assert lp["result"]["optimisation"]["solver"] == "highs"


def test_self_consumption_dispatch_completes(celery_worker, api):
    scenario = create_scenario(api, algo_name="SelfConsumption", algo_params={"capacity_kwh": 150})
    api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/run")

    assert wait_for(lambda: finished(api, scenario["id"]))["status"] == "complete"
    full = api.get(f"{API}/sessions/main/scenarios/{scenario['id']}").json()
    assert 0 < full["kpis"]["self_consumption_share"]["value"] <= 100
    assert full["kpis"]["battery_cycles"]["value"] > 0


def test_an_algorithm_that_raises_ends_failed_with_its_error(celery_worker, api):
    # The schema's rules refuse these values when a scenario is created; a row stored before the
    # rules existed still fails its run, with the algorithm's own message.
    scenario = create_scenario(api, algo_name="PeakShavingLP")
    stored = Scenario.objects.get(pk=scenario["id"])
    stored.algo_params = {**stored.algo_params, "min_soc": 0.9, "max_soc": 0.2, "initial_soc": 0.5}
    stored.save(update_fields=["algo_params"])
    api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/run")

    assert wait_for(lambda: finished(api, scenario["id"]))["status"] == "failed"
    full = api.get(f"{API}/sessions/main/scenarios/{scenario['id']}").json()
    assert full["error"] == "ValueError: min_soc (0.9) must be below max_soc (0.2)."
    assert full["result"] is None
    assert all(kpi["value"] is None for kpi in full["kpis"].values())


def test_reset_after_complete_and_run_again(celery_worker, api):
    scenario = create_scenario(api)
    api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/run")
    assert wait_for(lambda: finished(api, scenario["id"]))["status"] == "complete"
    assert api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/run").status_code == 409

    reset = api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/reset")
    assert reset.status_code == 200 and reset.json()["status"] == "created" and reset.json()["result"] is None

    assert api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/run").status_code == 202
    assert wait_for(lambda: finished(api, scenario["id"]))["status"] == "complete"


def test_one_processing_per_session_and_the_rest_wait_in_order(celery_workers, celery_worker, api):
    second = celery_workers.start()  # two workers: the queue order is the database's, not theirs
    try:
        scenarios = [create_scenario(api, tag=f"s{index}", algo_params={"duration": 1}) for index in range(4)]
        for scenario in scenarios:
            assert api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/run").status_code == 202

        ids = [scenario["id"] for scenario in scenarios]
        most_processing = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = dict(Scenario.objects.filter(pk__in=ids).values_list("pk", "status"))
            most_processing = max(most_processing, sum(state == "processing" for state in states.values()))
            if all(state == "complete" for state in states.values()):
                break
            time.sleep(0.05)
        assert most_processing == 1
        started = list(
            Scenario.objects.filter(pk__in=ids).order_by("started_at").values_list("tag", flat=True)
        )
        assert started == ["s0", "s1", "s2", "s3"]
    finally:
        celery_workers.stop(second)


def _kill_worker_tree(process) -> None:
    """SIGKILL a worker's main process and its pool children: nothing gets to clean up."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    os.kill(process.pid, signal.SIGKILL)
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(child), signal.SIGKILL)
    process.wait()


def _run_on_a_worker_then_kill_it(celery_workers, api, settings):
    if celery_workers.default is not None:
        celery_workers.stop(celery_workers.default)  # the doomed worker must be the one to take it
    doomed = celery_workers.start()
    scenario = create_scenario(api, tag="doomed", algo_params={"duration": 30})
    api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/run")
    wait_for(lambda: status(api, scenario["id"])["progress"] > 0.05)

    _kill_worker_tree(celery_workers.processes.pop(doomed))

    assert status(api, scenario["id"])["status"] == "processing"  # nobody has noticed yet
    settings.SCENARIOS_HEARTBEAT_TIMEOUT = 1.0
    time.sleep(1.5)
    return scenario


def test_a_killed_worker_is_swept_and_its_scenario_requeued_then_completed(celery_workers, api, settings):
    scenario = _run_on_a_worker_then_kill_it(celery_workers, api, settings)
    Scenario.objects.filter(pk=scenario["id"]).update(algo_params={"duration": 1})  # the retry is quick

    outcome = services.scenarios_sweep()

    assert outcome["requeued"] == 1
    row = Scenario.objects.get(pk=scenario["id"])
    assert row.status == "queued" and "presumed dead" in row.error
    celery_workers.ensure_default()  # a live worker takes the re-queued scenario
    assert wait_for(lambda: finished(api, scenario["id"]))["status"] == "complete"
    row.refresh_from_db()
    assert row.attempts == 2 and row.error == ""
    assert not Scenario.objects.filter(status="processing").exists()


def test_a_killed_worker_fails_its_scenario_when_attempts_are_used_up(celery_workers, api, settings):
    settings.SCENARIOS_MAX_ATTEMPTS = 1
    scenario = _run_on_a_worker_then_kill_it(celery_workers, api, settings)

    outcome = services.scenarios_sweep()

    assert outcome["failed"] == 1
    body = api.get(f"{API}/sessions/main/scenarios/{scenario['id']}").json()
    assert body["status"] == "failed"
    assert "stopped reporting" in body["error"] and "presumed dead" in body["error"]
    assert not Scenario.objects.filter(status="processing").exists()
    # A terminal state like any other: reset and run again.
    assert api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/reset").status_code == 200


def test_deleting_a_processing_scenario_stops_its_run_and_the_next_goes(celery_worker, api):
    doomed = create_scenario(api, tag="doomed", algo_params={"duration": 20})
    after = create_scenario(api, tag="after", algo_params={"duration": 1})
    api.post(f"{API}/sessions/main/scenarios/{doomed['id']}/run")
    api.post(f"{API}/sessions/main/scenarios/{after['id']}/run")
    wait_for(lambda: status(api, doomed["id"])["status"] == "processing")
    assert status(api, after["id"])["status"] == "queued"

    assert api.delete(f"{API}/sessions/main/scenarios/{doomed['id']}").status_code == 204

    assert wait_for(lambda: finished(api, after["id"]), timeout=15)["status"] == "complete"
    assert not Scenario.objects.filter(tag="doomed").exists()


def test_the_periodic_sweep_task_on_a_worker_requeues_a_stale_scenario_which_then_completes(
    celery_worker, api
):
    from datetime import timedelta

    from django.utils import timezone

    from scenarios_app.tasks import scenarios_sweep

    scenario = create_scenario(api, tag="orphan", algo_params={"duration": 1})
    stale = timezone.now() - timedelta(minutes=5)
    Scenario.objects.filter(pk=scenario["id"]).update(
        status="processing",
        queued_at=stale,
        started_at=stale,
        heartbeat_at=stale,
        attempts=1,
        worker="gone@host",
    )

    scenarios_sweep.delay()  # what Celery beat sends every SCENARIOS_SWEEP_INTERVAL

    assert wait_for(lambda: finished(api, scenario["id"]))["status"] == "complete"
    row = Scenario.objects.get(pk=scenario["id"])
    assert row.attempts == 2


def test_the_soft_time_limit_fails_the_run_with_its_message(celery_worker, api, main):
    """Celery's soft time limit (CELERY_TASK_SOFT_TIME_LIMIT; here 1 s for this one message)
    stops the algorithm: the run ends failed with the time-limit message, the worker lives on."""
    from django.utils import timezone

    from heatportal.celery import app

    scenario = create_scenario(api, tag="too-long", algo_params={"duration": 20})
    Scenario.objects.filter(pk=scenario["id"]).update(status="queued", queued_at=timezone.now())

    app.send_task(services.DISPATCH_TASK, args=[str(main.pk)], soft_time_limit=1)

    body = wait_for(lambda: finished(api, scenario["id"]), timeout=15)
    assert body["status"] == "failed"
    assert Scenario.objects.get(pk=scenario["id"]).error == "The run exceeded the time limit and was stopped."
