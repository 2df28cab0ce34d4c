"""Recovery with real processes, as under ``make run``: a run whose pool child is killed is
re-queued within the designed bound while every run slot stays busy (the sweeps have a queue
and a worker of their own), and a queued scenario whose message was lost still runs."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from heatportal.celery import app
from scenarios_app import services
from scenarios_app.models import RunnerSession, Scenario
from tests.helpers import ROOT
from tests.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DEAD_RUN_BOUND = 45.0  # seconds from the kill to re-queued or failed (docs/operations.md)


def _kill_tree(process) -> None:
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    for pid in [process.pid, *map(int, children)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def _slow_run(name: str, duration: int) -> Scenario:
    session = services.session_create(display_name=name, with_master_data=True)
    scenario = services.scenario_create(
        session=session,
        tag="slow",
        dataset_key="Master data",
        algo_name="Slow",
    )
    # Longer than the API allows (60 s): these runs must outlast the whole test.
    Scenario.objects.filter(pk=scenario.pk).update(algo_params={**scenario.algo_params, "duration": duration})
    return services.scenario_run(scenario=scenario)


def _status(scenario) -> str:
    return Scenario.objects.get(pk=scenario.pk).status


def _pool_child_running(hostname: str, session: RunnerSession) -> int:
    active = app.control.inspect(destination=[hostname], timeout=2).active() or {}
    for request in active.get(hostname, []):
        if str(session.pk) in str(request.get("args")):
            return request["worker_pid"]
    return 0


@pytest.fixture
def portal_processes(celery_workers, tmp_path):
    """The worker layout of ``make run`` with its default settings: a prefork worker with two
    run slots on ``celery``, a solo worker on ``sweeps``, and beat."""
    if celery_workers.default is not None:
        celery_workers.stop(celery_workers.default)  # nothing else may take runs or sweeps
    runs = celery_workers.start(concurrency=2, queues="celery")
    sweeps = celery_workers.start(queues="sweeps", pool="solo")
    with open(tmp_path / "beat.log", "wb") as log:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "heatportal", "beat", "--loglevel", "INFO",
             "--schedule", str(tmp_path / "beat-schedule")],
            cwd=ROOT, env=celery_workers.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    yield runs
    beat.kill()
    beat.wait()
    for hostname in (runs, sweeps):  # runs may still be going: no warm shutdown
        _kill_tree(celery_workers.processes.pop(hostname))


def test_a_killed_run_is_requeued_within_the_bound_while_every_slot_is_busy(portal_processes, settings):
    assert settings.SCENARIOS_HEARTBEAT_TIMEOUT + settings.SCENARIOS_SWEEP_INTERVAL <= DEAD_RUN_BOUND
    doomed = _slow_run("doomed", 120)
    busy = _slow_run("busy", 120)
    wait_for(lambda: _status(doomed) == _status(busy) == "processing")
    waiting = _slow_run("waiting", 120)  # takes the slot that the kill frees
    pid = wait_for(lambda: _pool_child_running(portal_processes, doomed.session))

    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()

    wait_for(lambda: _status(waiting) == "processing", timeout=20)
    row = wait_for(
        lambda: (row := Scenario.objects.get(pk=doomed.pk)).status != "processing" and row,
        timeout=DEAD_RUN_BOUND + 15,
    )
    recovered = time.monotonic() - killed
    print(f"\nkilled run re-queued {recovered:.1f} s after kill -9 of its pool child, both slots busy")
    assert row.status == "queued" and "presumed dead" in row.error
    assert recovered <= DEAD_RUN_BOUND
    assert _status(busy) == _status(waiting) == "processing"  # the slots were busy all along


def test_a_queued_scenario_whose_message_was_lost_runs_after_the_sweep(portal_processes):
    session = services.session_create(display_name="lost", with_master_data=True)
    scenario = services.scenario_create(
        session=session, tag="lost", dataset_key="Master data", algo_name="Slow", algo_params={"duration": 1}
    )
    # Queued, as scenario_run leaves it, but no message: lost with a broker or a worker.
    Scenario.objects.filter(pk=scenario.pk).update(
        status="queued", queued_at=timezone.now() - timedelta(minutes=1)
    )

    wait_for(lambda: _status(scenario) == "complete", timeout=60)
