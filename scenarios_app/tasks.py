"""Celery tasks of the scenario runner. They take ids, re-read their rows and are safe to repeat.

``scenario_dispatch(session_id)`` is enqueued (on commit) whenever a session may have work: a
scenario was queued, a run ended, a sweep found waiting scenarios. It claims the session's
oldest queued scenario, unless one is processing, runs it here, and enqueues itself again for
the next in line. ``scenarios_sweep`` (Celery beat) handles scenarios whose worker died.
"""

from __future__ import annotations

import logging
import threading
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import close_old_connections, connection

from scenarios_app import algorithms, services
from scenarios_app.models import Scenario

logger = logging.getLogger(__name__)


class _Heartbeat(threading.Thread):
    """Beats for the scenario while the algorithm runs (a solver may not report for a while)."""

    def __init__(self, scenario_id, token):
        super().__init__(daemon=True, name=f"heartbeat-{scenario_id}")
        self.scenario_id, self.token = scenario_id, token
        self.stopped = threading.Event()

    def run(self):
        try:
            while not self.stopped.wait(settings.SCENARIOS_HEARTBEAT_INTERVAL):
                if not services.scenario_heartbeat(scenario_id=self.scenario_id, token=self.token):
                    return
        finally:
            connection.close()

    def stop(self):
        self.stopped.set()
        self.join(timeout=5)


def execute(scenario_id, token) -> str:
    """Run a claimed scenario to complete or failed. Returns the final status (or 'abandoned')."""
    scenario = Scenario.objects.select_related("dataset", "session").filter(pk=scenario_id).first()
    if scenario is None or scenario.run_token != token:
        return "abandoned"
    last_write = 0.0

    def report(progress: float) -> None:
        nonlocal last_write
        now = time.monotonic()
        if now - last_write >= settings.SCENARIOS_PROGRESS_INTERVAL or progress >= 1.0:
            last_write = now
            services.scenario_report_progress(scenario_id=scenario_id, token=token, progress=progress)

    heartbeat = _Heartbeat(scenario_id, token)
    heartbeat.start()
    try:
        algorithm = algorithms.REGISTRY.get(scenario.algo_name)
        if algorithm is None:
            raise LookupError(f"Algorithm '{scenario.algo_name}' is not registered.")
        profile = algorithms.Profile.from_dataset(scenario.dataset.tables, scenario.data_params)
        result = algorithm.run(profile, scenario.algo_params, report)
    except services.RunAbandoned:
        return "abandoned"
    except SoftTimeLimitExceeded:
        services.scenario_finish(
            scenario_id=scenario_id, token=token, error="The run exceeded the time limit and was stopped."
        )
        return "failed"
    except Exception as error:
        logger.exception("Scenario %s failed", scenario_id)
        services.scenario_finish(
            scenario_id=scenario_id, token=token, error=f"{type(error).__name__}: {error}"
        )
        return "failed"
    finally:
        heartbeat.stop()
    return (
        "complete"
        if services.scenario_finish(scenario_id=scenario_id, token=token, result=result)
        else "abandoned"
    )


@shared_task(acks_late=True)
def scenario_dispatch(session_id: str) -> str | None:
    close_old_connections()
    worker = getattr(scenario_dispatch.request, "hostname", None) or ""
    claimed = services.scenario_claim_next(session_id=session_id, worker=worker)
    if claimed is None:
        return None
    scenario_id, token = claimed
    try:
        return execute(scenario_id, token)
    finally:
        if Scenario.objects.filter(session_id=session_id, status=Scenario.Status.QUEUED).exists():
            scenario_dispatch.delay(session_id)


@shared_task
def scenarios_sweep() -> dict:
    return services.scenarios_sweep()
