"""The scenario runner (document 003): sessions, datasets and scenarios with a run state machine.

Runner sessions are workspaces of their own, unrelated to the HEAT v2 sessions of
``sessions_app``. Everything a session holds (datasets, scenarios, results) is deleted with it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


def _owner(related_name: str) -> models.ForeignKey:
    """Who created it; null: the installation's (``main``, ``Master data``, the demo data), and
    what was created before owners were recorded. heatportal.permissions: only its owner or an
    administrator may change or delete it."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name=related_name,
        editable=False,
    )


class RunnerSession(models.Model):
    """A named workspace: its datasets, its scenarios and its configuration.

    The UUID never changes; the display name can be renamed and is unique.
    ``algorithms`` and ``kpis`` are the names of the registered templates that this session's
    configuration enables (see ``scenarios_app.algorithms`` and ``scenarios_app.kpis``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(max_length=200, unique=True)
    algorithms = models.JSONField(default=list)
    kpis = models.JSONField(default=list)
    owner = _owner("runner_sessions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(display_name=""), name="scenarios_session_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.display_name


class Dataset(models.Model):
    """A set of named tables following a schema (``scenarios_app.datasets.SCHEMAS``).

    ``tables`` maps each table group to ``{"columns": [...], "rows": [[...], ...]}``.
    """

    session = models.ForeignKey(RunnerSession, on_delete=models.CASCADE, related_name="datasets")
    key = models.CharField(max_length=200)
    schema = models.CharField(max_length=100)
    tables = models.JSONField(default=dict)
    parameters = models.JSONField(default=dict, blank=True)
    owner = _owner("runner_datasets")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "key"], name="scenarios_dataset_key_unique"),
            models.CheckConstraint(condition=~Q(key=""), name="scenarios_dataset_key_not_empty"),
        ]

    def __str__(self) -> str:
        return self.key

    def row_count(self, group: str) -> int:
        return len(self.tables.get(group, {}).get("rows", []))


class ScenarioStatus(models.TextChoices):
    """``Scenario.Status``: defined at module level so that ``Scenario.Meta``'s constraints can
    use it (a nested class cannot see its enclosing class's names)."""

    CREATED = "created"
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETE = "complete"
    FAILED = "failed"


class Scenario(models.Model):
    """An input dataset bound to an algorithm and its parameter values, and the run's outcome.

    State machine: created → queued → processing → complete | failed, and reset back to
    created from complete or failed. At most one scenario per session is processing (a partial
    unique index); the others wait queued, in ``queued_at`` order.
    """

    Status = ScenarioStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(RunnerSession, on_delete=models.CASCADE, related_name="scenarios")
    tag = models.CharField(max_length=200)
    # PROTECT: a dataset cannot go while a scenario uses it (409 on DELETE /data/{key}).
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="scenarios")
    algo_name = models.CharField(max_length=100)
    algo_params = models.JSONField(default=dict)
    data_params = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED)
    progress = models.FloatField(default=0.0)
    result = models.JSONField(null=True, blank=True)
    kpi_values = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    # Run bookkeeping: a run token guards every write of a worker, so that a worker presumed
    # dead (and its scenario re-queued or failed) cannot overwrite what happened since.
    run_token = models.UUIDField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    owner = _owner("runner_scenarios")
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "tag"], name="scenarios_scenario_tag_unique"),
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(status=ScenarioStatus.PROCESSING),
                name="scenarios_one_processing_per_session",
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0.0) & Q(progress__lte=1.0), name="scenarios_progress_in_0_1"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ScenarioStatus.values),
                name="scenarios_status_valid",
            ),
            models.CheckConstraint(condition=~Q(tag=""), name="scenarios_tag_not_empty"),
        ]
        indexes = [models.Index(fields=["session", "status", "queued_at"], name="scenarios_queue_idx")]

    def __str__(self) -> str:
        return self.tag
