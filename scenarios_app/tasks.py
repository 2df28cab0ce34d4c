"""Celery tasks of the scenario runner: entry points that take an id and call one function.

``scenario_dispatch(session_id)`` is enqueued (on commit, by name:
``services.session_dispatch_on_commit``) whenever a session may have work: a scenario was
queued, a run ended, a sweep found waiting scenarios. It runs the session's next scenario in
this worker (``runs.session_run_next``). ``scenarios_sweep`` (Celery beat) handles scenarios
whose worker died. Time limits and late acks: the ``CELERY_*`` settings.
"""

from __future__ import annotations

import uuid

from celery import shared_task
from django.db import close_old_connections

from scenarios_app import runs, services


@shared_task(acks_late=True)
def scenario_dispatch(session_id: str) -> str | None:
    """Claim the session's next queued scenario and run it here; the worker's hostname is
    recorded as the run's worker. Celery's soft time limit fails the run with its message."""
    close_old_connections()
    worker = getattr(scenario_dispatch.request, "hostname", None) or ""
    return runs.session_run_next(session_id=uuid.UUID(session_id), worker=worker)


@shared_task
def scenarios_sweep() -> dict[str, int]:
    return services.scenarios_sweep()
