"""Reads of the scenario runner."""

from __future__ import annotations

import uuid

from django.db.models import Count, Q, QuerySet

from scenarios_app.models import Dataset, RunnerSession, Scenario


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def sid_filter(sid: str, prefix: str = "") -> Q:
    """Match a session by its UUID or its display name (CONTRACT §4)."""
    as_uuid = _as_uuid(sid)
    by_name = Q(**{f"{prefix}display_name": sid})
    return (Q(**{f"{prefix}id": as_uuid}) | by_name) if as_uuid else by_name


def sessions() -> QuerySet[RunnerSession]:
    return RunnerSession.objects.order_by("created_at", "id")


def sessions_with_counts() -> QuerySet[RunnerSession]:
    return sessions().annotate(
        dataset_count=Count("datasets", distinct=True), scenario_count=Count("scenarios", distinct=True)
    )


def session_by_sid(sid: str) -> RunnerSession | None:
    """The session; a UUID match wins over a display name that happens to look like a UUID."""
    matches = list(RunnerSession.objects.filter(sid_filter(sid))[:2])
    as_uuid = _as_uuid(sid)
    for session in matches:
        if session.pk == as_uuid:
            return session
    return matches[0] if matches else None


def session_datasets(session: RunnerSession) -> QuerySet[Dataset]:
    return Dataset.objects.filter(session=session).order_by("created_at", "id")


def dataset_keys(session: RunnerSession) -> list[str]:
    return list(session_datasets(session).values_list("key", flat=True))


def dataset_by_key(session: RunnerSession, key: str) -> Dataset | None:
    return Dataset.objects.filter(session=session, key=key).first()


def session_scenarios(session: RunnerSession) -> QuerySet[Scenario]:
    """The session's scenarios with their dataset (not its tables), oldest first. The caller
    has the session: it is not joined again for every row."""
    return (
        Scenario.objects.filter(session=session)
        .select_related("dataset")
        .defer("dataset__tables")
        .order_by("created_at", "id")
    )


# What a scenario's API body reads: not the run's bookkeeping (its datetimes, token, worker).
SCENARIO_BODY_FIELDS = (
    "session_id",
    "tag",
    "dataset_id",
    "algo_name",
    "algo_params",
    "data_params",
    "status",
    "progress",
    "result",
    "kpi_values",
    "error",
)


def scenario_list(*, session: RunnerSession) -> QuerySet[Scenario]:
    """The session's scenarios as the API lists them, oldest first: the columns of their body
    and their dataset's key only (a list is read on every refresh of a client's table)."""
    return session_scenarios(session).only(*SCENARIO_BODY_FIELDS, "dataset__key")


def scenario_by_id(session: RunnerSession, scenario_id: str) -> Scenario | None:
    """A scenario of the session by its UUID (or, failing that, by its tag)."""
    scenarios = Scenario.objects.filter(session=session).select_related("dataset", "session")
    scenarios = scenarios.defer("dataset__tables")
    as_uuid = _as_uuid(scenario_id)
    if as_uuid is not None:
        found = scenarios.filter(pk=as_uuid).first()
        if found is not None:
            return found
    return scenarios.filter(tag=scenario_id).first()


def _scenario_lookup(sid: str, scenario_id: str) -> dict:
    """The filter of the common case, without an OR: the session by its UUID (no join) or its
    display name, the scenario by its UUID or its tag. What it finds is what
    :func:`session_by_sid` then :func:`scenario_by_id` find; when it finds nothing (or the
    rare cases: a display name or tag that looks like a UUID), callers look up step by step."""
    sid_uuid, scenario_uuid = _as_uuid(sid), _as_uuid(scenario_id)
    by_session = {"session_id": sid_uuid} if sid_uuid else {"session__display_name": sid}
    return {**by_session, **({"pk": scenario_uuid} if scenario_uuid else {"tag": scenario_id})}


def scenario_get(*, sid: str, scenario_id: str) -> Scenario | None:
    """The scenario with what its body reads of its session and dataset, in one query, or None.
    (Services that change it save only the fields they change.)"""
    return (
        Scenario.objects.filter(**_scenario_lookup(sid, scenario_id))
        .select_related("session", "dataset")
        .only(*SCENARIO_BODY_FIELDS, "session__kpis", "dataset__key")
        .first()
    )


def scenario_status(*, sid: str, scenario_id: str) -> dict | None:
    """The poll body's values (id, tag, status, progress) in one query, or None."""
    return (
        Scenario.objects.filter(**_scenario_lookup(sid, scenario_id))
        .values("id", "tag", "status", "progress")
        .first()
    )


def processing_scenario(session: RunnerSession) -> Scenario | None:
    return session_scenarios(session).filter(status=Scenario.Status.PROCESSING).first()


def queue_position(scenario: Scenario) -> int | None:
    if scenario.status != Scenario.Status.QUEUED:
        return None
    return Scenario.objects.filter(
        session_id=scenario.session_id, status=Scenario.Status.QUEUED, queued_at__lt=scenario.queued_at
    ).count()
