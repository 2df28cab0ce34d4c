"""A scenario run: a claimed scenario run to its end in the worker, its progress reported from
a thread of its own.

``session_run_next`` is what the Celery task ``scenarios_app.tasks.scenario_dispatch`` does:
claim the session's oldest queued scenario (unless one is processing), run it here, and enqueue
the dispatcher again while the session has queued scenarios. The writes are the services'
(claim, progress, heartbeat, finish: each guarded by the run's token).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection

from scenarios_app import algorithms, selectors, services
from scenarios_app.models import Scenario

logger = logging.getLogger(__name__)


class _Reporter(threading.Thread):
    """Writes the run's progress and heartbeat from a thread of its own, so that the algorithm
    never waits on the database (a progress write per step made a 1 s run last 1.03 s on SQLite
    and 1.25 s on a busy PostgreSQL). :meth:`report` hands over the latest value; the thread
    writes it at most every ``SCENARIOS_PROGRESS_INTERVAL`` and beats every
    ``SCENARIOS_HEARTBEAT_INTERVAL`` in between (a solver may not report for a while). When a
    write finds the run no longer this worker's (deleted, reset, taken over after a sweep), the
    next :meth:`report` raises :class:`services.RunAbandoned`: the run stops within an interval."""

    def __init__(self, scenario_id: uuid.UUID, token: uuid.UUID):
        super().__init__(daemon=True, name=f"reporter-{scenario_id}")
        self.scenario_id, self.token = scenario_id, token
        self.stopped = threading.Event()
        self.changed = threading.Event()
        self.progress = 0.0  # written only after a report
        self.abandoned = False

    def report(self, progress: float) -> None:
        if self.abandoned:
            raise services.RunAbandoned(self.scenario_id)
        self.progress = progress
        self.changed.set()

    def run(self) -> None:
        last_write = time.monotonic()
        try:
            while not self.stopped.is_set():
                timeout = settings.SCENARIOS_HEARTBEAT_INTERVAL - (time.monotonic() - last_write)
                changed = self.changed.wait(max(0.0, timeout))
                if self.stopped.is_set():
                    return
                if changed:
                    self.changed.clear()
                    try:
                        services.scenario_report_progress(
                            scenario_id=self.scenario_id, token=self.token, progress=self.progress
                        )
                    except services.RunAbandoned:
                        self.abandoned = True
                        return
                elif not services.scenario_heartbeat(scenario_id=self.scenario_id, token=self.token):
                    self.abandoned = True
                    return
                last_write = time.monotonic()
                self.stopped.wait(settings.SCENARIOS_PROGRESS_INTERVAL)  # progress at most this often
        finally:
            connection.close()

    def stop(self) -> None:
        """No more writes from this thread (one in flight is guarded by the run's token, so it
        cannot touch a finished run); the caller finishes the run without waiting for it."""
        self.stopped.set()
        self.changed.set()


def session_run_next(*, session_id: uuid.UUID, worker: str = "") -> str | None:
    """Claim the session's next queued scenario for ``worker`` and run it to its end here.

    Returns the run's final status (or 'abandoned'), None when nothing was claimed. While the
    session has queued scenarios, the dispatcher is enqueued again for the next in line.
    """
    claimed = services.scenario_claim_next(session_id=session_id, worker=worker)
    if claimed is None:
        return None
    scenario_id, token = claimed
    try:
        return scenario_execute(scenario_id=scenario_id, token=token)
    finally:
        if selectors.session_waiting(session_id=session_id):
            services.session_dispatch_on_commit(session_id=session_id)


def scenario_execute(*, scenario_id: uuid.UUID, token: uuid.UUID) -> str:
    """Run a claimed scenario to complete or failed. Returns the final status (or 'abandoned').

    Celery's soft time limit (``SoftTimeLimitExceeded``, raised in the algorithm) fails the run
    with a time-limit message; any other exception fails it with ``Type: message``."""
    scenario = Scenario.objects.select_related("dataset", "session").filter(pk=scenario_id).first()
    if scenario is None or scenario.run_token != token:
        return "abandoned"
    kpi_names = scenario.session.kpis
    reporter = _Reporter(scenario_id, token)
    reporter.start()
    try:
        algorithm = algorithms.REGISTRY.get(scenario.algo_name)
        if algorithm is None:
            raise LookupError(f"Algorithm '{scenario.algo_name}' is not registered.")
        profile = algorithms.Profile.from_dataset(scenario.dataset.tables, scenario.data_params)
        result = algorithm.run(profile, scenario.algo_params, reporter.report)
    except services.RunAbandoned:
        reporter.stop()
        return "abandoned"
    except SoftTimeLimitExceeded:
        reporter.stop()
        services.scenario_finish(
            scenario_id=scenario_id, token=token, error="The run exceeded the time limit and was stopped."
        )
        return "failed"
    except Exception as error:
        reporter.stop()
        logger.exception("Scenario %s failed", scenario_id)
        services.scenario_finish(
            scenario_id=scenario_id, token=token, error=f"{type(error).__name__}: {error}"
        )
        return "failed"
    finally:
        reporter.stop()
    finished = services.scenario_finish(
        scenario_id=scenario_id, token=token, result=result, kpi_names=kpi_names
    )
    reporter.join(timeout=5)
    return "complete" if finished else "abandoned"
