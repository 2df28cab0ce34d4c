"""Writes of the scenario runner. API views, portal pages, the admin and Celery tasks call these.

Errors a client can cause raise :class:`ServiceError` subclasses carrying the HTTP status the
API answers with (document 003): 404 :class:`NotFound`, 409 :class:`Conflict`, 400
:class:`Invalid`.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from heatportal import permissions
from heatportal.accounts.models import User
from heatportal.api.input import BadInput, check_json_value
from heatportal.celery import app as celery_app
from heatportal.energy import AppliedBatch, SiteInfo, energy_sites
from heatportal.services import Conflict, NotFound, ServiceError
from scenarios_app import algorithms, datasets, kpis, selectors, site_link
from scenarios_app.configuration import default_configuration
from scenarios_app.models import Dataset, RunnerSession, Scenario
from scenarios_app.parameters import ParameterError, validate_parameters

Status = Scenario.Status
DEFAULT_SESSION_NAME = "main"
DISPATCH_TASK = "scenarios_app.tasks.scenario_dispatch"


class Invalid(ServiceError):
    status = 400


class NotRunnable(Conflict):
    """Run of a scenario that is not ``created``. The API's message is document 003's (it names
    the reset endpoint); ``page_message`` says the same in the portal's words (its buttons)."""

    def __init__(self, *, tag: str, status: str):
        super().__init__(f"Scenario '{tag}' is {status}, not created. Reset it first with POST .../reset.")
        if status in (Status.QUEUED, Status.PROCESSING):
            self.page_message = (
                f"Scenario '{tag}' is {status}, not created: it can run again once it has completed "
                "or failed and has been reset."
            )
        else:
            self.page_message = (
                f"Scenario '{tag}' is {status}, not created. Reset it first with the Reset button."
            )


class TagTaken(Conflict):
    def __init__(self, tag: str):
        super().__init__(f"A scenario with tag '{tag}' already exists.")


class RunAbandoned(Exception):
    """The scenario is no longer this run's (deleted, reset, or taken over after a sweep)."""


# --- Sessions ---------------------------------------------------------------------------------


@transaction.atomic
def session_create(
    *, display_name: str, with_master_data: bool = False, owner: User | None = None
) -> RunnerSession:
    """A new session; ``owner`` None: the installation's (``main``)."""
    if RunnerSession.objects.filter(display_name=display_name).exists():
        raise Conflict(f"A session with display name '{display_name}' already exists.")
    session = RunnerSession.objects.create(display_name=display_name, owner=owner, **default_configuration())
    if with_master_data:
        dataset_store(
            session=session,
            key=datasets.MASTER_DATA_KEY,
            schema=datasets.DEFAULT_SCHEMA,
            tables=datasets.master_tables(),
        )
    return session


def session_ensure_default() -> RunnerSession | None:
    """A fresh ``main`` with ``Master data`` when there is no session at all (CONTRACT §4)."""
    if RunnerSession.objects.exists():
        return None
    try:
        with transaction.atomic():
            return session_create(display_name=DEFAULT_SESSION_NAME, with_master_data=True)
    except (Conflict, IntegrityError):
        return None  # created concurrently


@transaction.atomic
def session_copy(
    *, session: RunnerSession, new_display_name: str, owner: User | None = None
) -> RunnerSession:
    """A new session with copies of the datasets, scenarios (and their results) and configuration,
    all of them ``owner``'s.

    Scenarios in flight are copied as ``created``: the copy has nothing queued.
    """
    if RunnerSession.objects.filter(display_name=new_display_name).exists():
        raise Conflict(f"A session with display name '{new_display_name}' already exists.")
    copy = RunnerSession.objects.create(
        display_name=new_display_name,
        algorithms=list(session.algorithms),
        kpis=list(session.kpis),
        owner=owner,
    )
    dataset_map = {}
    for dataset in session.datasets.all():
        dataset_map[dataset.pk] = Dataset.objects.create(
            session=copy,
            key=dataset.key,
            schema=dataset.schema,
            tables=dataset.tables,
            parameters=dataset.parameters,
            owner=owner,
        )
    copies = []
    for scenario in session.scenarios.all():
        terminal = scenario.status in (Status.COMPLETE, Status.FAILED)
        copies.append(
            Scenario(
                session=copy,
                tag=scenario.tag,
                dataset=dataset_map[scenario.dataset_id],
                algo_name=scenario.algo_name,
                algo_params=scenario.algo_params,
                data_params=scenario.data_params,
                status=scenario.status if terminal else Status.CREATED,
                progress=scenario.progress if terminal else 0.0,
                result=scenario.result if terminal else None,
                kpi_values=scenario.kpi_values if terminal else None,
                error=scenario.error if terminal else "",
                finished_at=scenario.finished_at if terminal else None,
                owner=owner,
            )
        )
    Scenario.objects.bulk_create(copies)
    return copy


@transaction.atomic
def session_rename(*, session: RunnerSession, display_name: str) -> RunnerSession:
    if RunnerSession.objects.filter(display_name=display_name).exclude(pk=session.pk).exists():
        raise Conflict(f"A session with display name '{display_name}' already exists.")
    session.display_name = display_name
    session.save(update_fields=["display_name"])
    return session


@transaction.atomic
def session_delete(*, session: RunnerSession) -> None:
    """Delete the session and all it holds; the last one is replaced by a fresh ``main``."""
    # The session's row first, as scenario_claim_next takes it: no lock-order deadlock.
    RunnerSession.objects.select_for_update().filter(pk=session.pk).first()
    session.scenarios.all().delete()  # before the datasets they protect
    session.datasets.all().delete()
    session.delete()
    session_ensure_default()


# --- Datasets ---------------------------------------------------------------------------------


@transaction.atomic
def dataset_store(
    *,
    session: RunnerSession,
    key: str,
    schema: str,
    tables: dict[str, Any],
    parameters: dict[str, Any] | None = None,
    owner: User | None = None,
) -> Dataset:
    """Create the dataset ``key`` (``owner``'s) or overwrite its tables (scenarios using it keep
    using it). Overwriting is changing: a user may overwrite only a dataset they may change
    (heatportal.permissions); ``owner`` None is the installation itself (demo data, commands)."""
    fields = {"schema": schema, "tables": tables, "parameters": parameters or {}}
    if owner is not None:
        existing = Dataset.objects.filter(session=session, key=key).only("id", "key", "owner_id").first()
        if existing is not None:
            permissions.require(owner, "runner.change", existing)
    dataset, _ = Dataset.objects.update_or_create(
        session=session, key=key, defaults=fields, create_defaults={**fields, "owner": owner}
    )
    return dataset


@transaction.atomic
def dataset_delete(*, dataset: Dataset) -> None:
    used = dataset.scenarios.count()
    if used:
        raise Conflict(
            f"Dataset '{dataset.key}' is used by {used} scenario(s) in this session. "
            "Delete those scenarios first."
        )
    dataset.delete()


@transaction.atomic
def dataset_derive(*, dataset: Dataset, new_key: str, owner: User | None = None) -> Dataset:
    """A copy of the dataset under ``new_key``, remembering where it came from."""
    if Dataset.objects.filter(session_id=dataset.session_id, key=new_key).exists():
        raise Conflict(f"Dataset '{new_key}' already exists.")
    return Dataset.objects.create(
        session_id=dataset.session_id,
        key=new_key,
        schema=dataset.schema,
        tables=dataset.tables,
        parameters={**dataset.parameters, "derived_from": dataset.key},
        owner=owner,
    )


@transaction.atomic
def dataset_ingest_json(*, session: RunnerSession, payload: Any, owner: User | None = None) -> list[Dataset]:
    """Register the dataset(s) of a ``to_json()`` payload: one object, or an array of them.

    All or nothing: a payload with one invalid dataset stores none.
    """
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise Invalid("Empty dataset list.")
    try:
        parsed = [datasets.dataset_from_json(item) for item in items]
    except datasets.PayloadError as error:
        raise Invalid(str(error)) from error
    return [
        dataset_store(
            session=session, key=key, schema=schema, tables=tables, parameters=parameters, owner=owner
        )
        for key, schema, tables, parameters in parsed
    ]


@transaction.atomic
def dataset_create_from_site(
    *,
    session: RunnerSession,
    new_key: str,
    site_id: uuid.UUID,
    start: datetime,
    end: datetime,
    prices: list[site_link.Price] | None = None,
    owner: User | None = None,
) -> Dataset:
    """A ``load_profile`` dataset of the site's measured load and PV at 15-minute resolution
    over ``[start, end)`` (``start`` rounded down to its quarter hour), through
    :mod:`heatportal.energy`. Its ``parameters`` say where it came from and carry the BESS's
    rated power and capacity as ``parameter_defaults`` (``power_kw``, ``capacity_kwh``).

    404 for an unknown site, 409 for a key taken, 400 for a range that is empty, too long or
    has more than ``MAX_MISSING_SHARE`` of its steps without data.
    """
    if Dataset.objects.filter(session=session, key=new_key).exists():
        raise Conflict(f"Dataset '{new_key}' already exists.")
    sites = energy_sites()
    site = sites.site_get(site_id=site_id)
    if site is None:
        raise NotFound(f"Site '{site_id}' not found.")
    steps = _site_steps(site.name, site.assets, start, end)
    profile = site_link.profile_rows(
        sites.power_series(site_id=site_id, start=steps[0], end=end),
        steps=steps,
        has_solar="solar" in site.assets,
        prices=prices,
    )
    _require_enough_data(profile, steps=steps, end=end, has_solar="solar" in site.assets)
    group = datasets.LOAD_PROFILE.groups[0]
    messages = datasets.Messages()
    table = datasets.validate_table(group, group.column_names, profile.rows, messages)
    if not messages.ok:
        raise Invalid(f"The dataset is not valid: {messages.first_error()}")
    try:
        with transaction.atomic():  # a key taken meanwhile: the unique constraint answers
            return Dataset.objects.create(
                session=session,
                key=new_key,
                schema=datasets.LOAD_PROFILE.name,
                tables={group.name: table},
                parameters=_site_dataset_parameters(site, start=steps[0], end=end, missing=profile.missing),
                owner=owner,
            )
    except IntegrityError as error:
        raise Conflict(f"Dataset '{new_key}' already exists.") from error


def _site_dataset_parameters(
    site: SiteInfo, *, start: datetime, end: datetime, missing: int
) -> dict[str, Any]:
    """Where the dataset came from, and the BESS's rating as the scenario's defaults."""
    defaults = {"power_kw": site.bess_power_kw, "capacity_kwh": site.bess_capacity_kwh}
    return {
        "source": {
            "siteId": str(site.id),
            "siteName": site.name,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "resolution": "15m",
            "missingSteps": missing,
        },
        "parameter_defaults": {name: value for name, value in defaults.items() if value},
    }


def _require_enough_data(
    profile: site_link.Profile, *, steps: list[datetime], end: datetime, has_solar: bool
) -> None:
    if profile.missing_share > site_link.MAX_MISSING_SHARE:
        raise Invalid(
            f"Too little data: {profile.missing} of the {len(steps)} 15-minute steps between "
            f"{steps[0].isoformat()} and {end.isoformat()} ({profile.missing_share:.0%}) have no "
            f"measured load{' and PV' if has_solar else ''}; at most "
            f"{site_link.MAX_MISSING_SHARE:.0%} may be missing."
        )


def _site_steps(name: str, assets: frozenset[str], start: datetime, end: datetime) -> list[datetime]:
    if "load" not in assets:
        raise Invalid(f"Site '{name}' has no load asset: the dataset's load comes from it.")
    if end <= start:
        raise Invalid("'to' must be after 'from'.")
    if end - start > site_link.MAX_RANGE:
        raise Invalid(f"A range of at most {site_link.MAX_RANGE.days} days may be read at once.")
    return site_link.step_starts(start, end)


# --- Scenarios --------------------------------------------------------------------------------


def scenario_create(
    *,
    session: RunnerSession,
    tag: str,
    dataset_key: str,
    algo_name: str,
    algo_params: dict[str, Any] | None = None,
    data_params: dict[str, Any] | None = None,
    owner: User | None = None,
) -> Scenario:
    """A new scenario in ``created``, ``owner``'s.

    One write, so no transaction of its own: a tag already taken is found by the unique
    constraint when inserting (409), not by a query before it. Checks in the documented order:
    dataset (404), algorithm (404), tag (409), parameter values (400).
    """
    dataset = selectors.dataset_get(session=session, key=dataset_key, with_tables=False)
    if dataset is None:
        raise NotFound(f"Dataset '{dataset_key}' not found.")
    if algo_name not in session.algorithms or algo_name not in algorithms.REGISTRY:
        raise NotFound(f"Algorithm '{algo_name}' not found.")
    try:
        algorithm = algorithms.REGISTRY[algo_name]
        params = validate_parameters(algorithm.parameters, algo_params, algorithm.rules)
        clean_data_params = validate_parameters(datasets.data_parameter_schema(), data_params)
    except ParameterError as error:
        if selectors.scenario_tag_taken(session=session, tag=tag):  # reported first (409)
            raise TagTaken(tag) from error
        raise Invalid(str(error)) from error
    scenario = Scenario(
        session=session,
        tag=tag,
        dataset=dataset,
        algo_name=algo_name,
        algo_params=params,
        data_params=clean_data_params,
        owner=owner,
    )
    try:
        with _savepoint_if_nested():
            scenario.save(force_insert=True)
    except IntegrityError as error:
        raise TagTaken(tag) from error
    return scenario


def _savepoint_if_nested() -> AbstractContextManager[object]:
    """A savepoint around a single write that may fail, when the caller has a transaction
    open (it stays usable after the failure); outside one the write commits alone, and
    opening a transaction for it would cost two round trips for nothing."""
    return transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()


@transaction.atomic
def scenario_delete(*, scenario: Scenario) -> None:
    """Delete the scenario. A worker running it notices and stops writing (RunAbandoned)."""
    session_id = scenario.session_id
    was_processing = scenario.status == Status.PROCESSING
    scenario.delete()
    if was_processing:
        session_dispatch_on_commit(session_id=session_id)


def session_dispatch_on_commit(*, session_id: uuid.UUID, unless_busy: bool = False) -> None:
    """Enqueue the session's dispatcher (the task ``DISPATCH_TASK``, sent by name: services do
    not import tasks) once the caller's writes are committed; at once outside a transaction.

    ``unless_busy``: not when one of the session's scenarios is processing, as seen after the
    commit; its run enqueues the dispatcher when it ends (``runs.session_run_next``), and that
    later check sees what was committed here. A queue of runs in a busy session then costs a
    query each instead of a broker message each (the run request's CPU in process: 1.7 -> 0.9
    ms on the embedded broker). A run whose worker died is re-queued by the sweep, which
    enqueues again.
    """

    def dispatch() -> None:
        if unless_busy and selectors.session_busy(session_id=session_id):
            return
        celery_app.send_task(DISPATCH_TASK, args=[str(session_id)])

    transaction.on_commit(dispatch)


def _locked(scenario: Scenario) -> Scenario:
    """The scenario's row, locked (only that row), with what its API body needs."""
    return (
        Scenario.objects.select_for_update(of=("self",))
        .select_related("dataset", "session")
        .defer("dataset__tables")
        .get(pk=scenario.pk)
    )


def scenario_run(*, scenario: Scenario) -> Scenario:
    """created → queued; a worker picks it up when the session's earlier scenarios are done.

    One conditional UPDATE decides (no row lock and no transaction needed): of two concurrent
    runs only one finds the scenario ``created``. The session's dispatcher is enqueued when it
    commits.
    """
    queued = {
        "status": Status.QUEUED,
        "progress": 0.0,
        "queued_at": timezone.now(),
        "result": None,
        "kpi_values": None,
        "error": "",
        "attempts": 0,
    }
    if not Scenario.objects.filter(pk=scenario.pk, status=Status.CREATED).update(**queued):
        status = Scenario.objects.filter(pk=scenario.pk).values_list("status", flat=True).first()
        if status is None:
            raise NotFound(f"Scenario '{scenario.tag}' not found.")
        raise NotRunnable(tag=scenario.tag, status=status)
    for field, value in queued.items():
        setattr(scenario, field, value)
    session_dispatch_on_commit(session_id=scenario.session_id, unless_busy=True)
    return scenario


@transaction.atomic
def scenario_reset(*, scenario: Scenario) -> Scenario:
    """complete | failed → created, clearing the result; a no-op on created; 409 in flight."""
    locked = _locked(scenario)
    if locked.status in (Status.QUEUED, Status.PROCESSING):
        raise Conflict(
            f"Scenario '{locked.tag}' is {locked.status}; wait for it to complete or fail before resetting."
        )
    if locked.status != Status.CREATED:
        locked.status = Status.CREATED
        locked.progress = 0.0
        locked.result = None
        locked.kpi_values = None
        locked.error = ""
        locked.run_token = None
        locked.worker = ""
        locked.queued_at = locked.started_at = locked.heartbeat_at = locked.finished_at = None
        locked.save()
    return locked


# --- Execution (called by scenarios_app.runs and the Celery tasks) ---------------------------


def scenario_claim_next(*, session_id: uuid.UUID, worker: str = "") -> tuple[uuid.UUID, uuid.UUID] | None:
    """queued → processing for the session's oldest queued scenario, unless one is processing.

    Returns ``(scenario id, run token)`` or None. The partial unique index makes a concurrent
    second claim fail, so at most one scenario per session is ever processing.
    """
    now = timezone.now()
    token = uuid.uuid4()
    try:
        with transaction.atomic():
            # Claims of one session take turns on its row: without it, a claim could skip the
            # oldest queued scenario while another claim holds it, and break the order.
            if RunnerSession.objects.select_for_update().filter(pk=session_id).first() is None:
                return None
            if Scenario.objects.filter(session_id=session_id, status=Status.PROCESSING).exists():
                return None
            candidate = (
                Scenario.objects.filter(session_id=session_id, status=Status.QUEUED)
                .order_by("queued_at", "created_at", "id")
                .first()
            )
            if candidate is None:
                return None
            Scenario.objects.filter(pk=candidate.pk, status=Status.QUEUED).update(
                status=Status.PROCESSING,
                run_token=token,
                worker=worker,
                started_at=now,
                heartbeat_at=now,
                progress=0.0,
                attempts=F("attempts") + 1,
            )
            return candidate.pk, token
    except IntegrityError:
        return None  # another worker claimed one for this session at the same moment


def scenario_report_progress(*, scenario_id: uuid.UUID, token: uuid.UUID, progress: float) -> None:
    progress = min(max(float(progress), 0.0), 1.0)
    updated = Scenario.objects.filter(pk=scenario_id, status=Status.PROCESSING, run_token=token).update(
        progress=progress, heartbeat_at=timezone.now()
    )
    if not updated:
        raise RunAbandoned(scenario_id)


def scenario_heartbeat(*, scenario_id: uuid.UUID, token: uuid.UUID) -> bool:
    return bool(
        Scenario.objects.filter(pk=scenario_id, status=Status.PROCESSING, run_token=token).update(
            heartbeat_at=timezone.now()
        )
    )


def scenario_finish(
    *,
    scenario_id: uuid.UUID,
    token: uuid.UUID,
    result: dict[str, Any] | None = None,
    error: str = "",
    kpi_names: list[str] | None = None,
) -> bool:
    """processing → complete (with result and KPI values) or failed (with the error).

    One UPDATE guarded by the run's token: it writes nothing once the run is no longer this
    worker's. ``kpi_names`` are the session's KPIs (read here when not given)."""
    now = timezone.now()
    fields: dict[str, Any] = {"finished_at": now, "heartbeat_at": now}
    if not error:
        if kpi_names is None:
            kpi_names = (
                RunnerSession.objects.filter(scenarios__pk=scenario_id).values_list("kpis", flat=True).first()
            ) or []
        kpi_values = kpis.compute_kpis(kpi_names, result)
        try:  # a NaN or infinity has no JSON form: the run fails with a reason instead of a crash
            check_json_value({"result": result, "kpi_values": kpi_values})
        except BadInput as bad:
            error = f"The algorithm's result cannot be stored: {bad}"
        else:
            fields.update(
                status=Status.COMPLETE, error="", progress=1.0, result=result, kpi_values=kpi_values
            )
    if error:
        fields.update(status=Status.FAILED, error=error[:4000], result=None, kpi_values=None)
    return bool(
        Scenario.objects.filter(pk=scenario_id, status=Status.PROCESSING, run_token=token).update(**fields)
    )


def scenarios_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Fail or re-queue scenarios whose worker stopped beating; wake sessions that wait.

    A processing scenario whose heartbeat is older than ``SCENARIOS_HEARTBEAT_TIMEOUT`` lost its
    worker: it goes back to the head of its session's queue while it has attempts left
    (``SCENARIOS_MAX_ATTEMPTS``), and is failed with the reason otherwise.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SCENARIOS_HEARTBEAT_TIMEOUT)
    requeued = failed = 0
    stale = Scenario.objects.filter(status=Status.PROCESSING, heartbeat_at__lt=cutoff)
    for scenario_id in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            scenario = stale.select_for_update().filter(pk=scenario_id).first()
            if scenario is None:
                continue
            reason = (
                f"The worker {scenario.worker or '(unknown)'} stopped reporting at "
                # heartbeat_at__lt never matches NULL: a stale scenario has a heartbeat
                f"{cast(datetime, scenario.heartbeat_at).isoformat()}; presumed dead."
            )
            if scenario.attempts < settings.SCENARIOS_MAX_ATTEMPTS:
                scenario.status = Status.QUEUED
                scenario.progress = 0.0
                scenario.error = reason + " Re-queued."
                requeued += 1
                session_dispatch_on_commit(session_id=scenario.session_id)
            else:
                scenario.status = Status.FAILED
                scenario.error = reason
                scenario.finished_at = now
                failed += 1
            scenario.run_token = None
            scenario.save()
            if scenario.status == Status.FAILED:
                session_dispatch_on_commit(session_id=scenario.session_id)  # the next in line may go
    woken = 0
    waiting = (
        Scenario.objects.filter(status=Status.QUEUED, queued_at__lt=now - timedelta(seconds=10))
        .exclude(session__scenarios__status=Status.PROCESSING)
        .values_list("session_id", flat=True)
        .distinct()
    )
    for session_id in list(waiting):
        with transaction.atomic():
            session_dispatch_on_commit(session_id=session_id)
        woken += 1
    return {"requeued": requeued, "failed": failed, "woken": woken}


# --- From scenario to schedule ---------------------------------------------------------------


def scenario_apply_to_site(
    *, scenario: Scenario, site_id: uuid.UUID, start_at: datetime, user: User
) -> AppliedBatch:
    """The complete scenario's battery dispatch as one schedule batch of the site (BESS
    ``activePowerkW`` from ``start_at``, runs of equal value merged), stored through the sites'
    validation and audit with source ``scenario``, the scenario's id and ``user`` as sender.

    409 when the scenario is not complete, 400 when it has no dispatch or when the sites' rules
    refuse the batch (their details kept), 404 for an unknown site."""
    entries = selectors.scenario_dispatch(scenario=scenario, start_at=start_at)
    sites = energy_sites()
    if sites.site_get(site_id=site_id) is None:
        raise NotFound(f"Site '{site_id}' not found.")
    return sites.bess_schedule_apply(
        site_id=site_id, entries=entries, scenario_id=scenario.pk, sent_by=user.get_username()
    )
