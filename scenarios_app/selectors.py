"""Reads of the scenario runner."""

from __future__ import annotations

import uuid
from operator import itemgetter

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


def _pick_scenario(rows: list, sid: str, scenario_id: str, *, session_id, pk):
    """Among the rows matched by one query on the session (UUID or display name) and the
    scenario (UUID or tag), the one that :func:`session_by_sid` then :func:`scenario_by_id`
    would find: None when there is none, or when only a full lookup can tell (a session whose
    display name is another session's UUID)."""
    sid_uuid = _as_uuid(sid)
    if sid_uuid is not None:  # rows matched only by a display name that looks like a UUID: unsure
        rows = [row for row in rows if session_id(row) == sid_uuid]
    if not rows:
        return None
    scenario_uuid = _as_uuid(scenario_id)
    by_pk = [row for row in rows if pk(row) == scenario_uuid]
    return (by_pk or rows)[0]


def _scenario_q(sid: str, scenario_id: str) -> Q:
    scenario_uuid = _as_uuid(scenario_id)
    by_id = (Q(pk=scenario_uuid) | Q(tag=scenario_id)) if scenario_uuid else Q(tag=scenario_id)
    return sid_filter(sid, "session__") & by_id


def scenario_get(*, sid: str, scenario_id: str) -> Scenario | None:
    """The scenario, its session and its dataset's key in one query (None: look up the session
    and the scenario one by one, for the right 404)."""
    rows = list(
        Scenario.objects.filter(_scenario_q(sid, scenario_id))
        .select_related("session", "dataset")
        .defer("dataset__tables")[:4]
    )
    return _pick_scenario(rows, sid, scenario_id, session_id=lambda s: s.session_id, pk=lambda s: s.pk)


def scenario_status(*, sid: str, scenario_id: str) -> dict | None:
    """The poll body (id, tag, status, progress) in one query, the session joined by its UUID
    or display name (None: look up the session and the scenario one by one, for the right 404)."""
    rows = list(
        Scenario.objects.filter(_scenario_q(sid, scenario_id)).values(
            "id", "tag", "status", "progress", "session_id"
        )[:4]
    )
    row = _pick_scenario(rows, sid, scenario_id, session_id=itemgetter("session_id"), pk=itemgetter("id"))
    if row is not None:
        del row["session_id"]
    return row


def processing_scenario(session: RunnerSession) -> Scenario | None:
    return session_scenarios(session).filter(status=Scenario.Status.PROCESSING).first()


def queue_position(scenario: Scenario) -> int | None:
    if scenario.status != Scenario.Status.QUEUED:
        return None
    return Scenario.objects.filter(
        session_id=scenario.session_id, status=Scenario.Status.QUEUED, queued_at__lt=scenario.queued_at
    ).count()
