"""Services of the runner, each one: the database invariants, claiming, the sweep, run tokens."""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from heatportal.permissions import Forbidden
from heatportal.services import Conflict
from scenarios_app import algorithms, datasets, kpis, services
from scenarios_app.models import Dataset, RunnerSession, Scenario
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def make(main, tag, **fields):
    scenario = services.scenario_create(session=main, tag=tag, dataset_key="Master data", algo_name="Slow")
    if fields:
        Scenario.objects.filter(pk=scenario.pk).update(**fields)
        scenario.refresh_from_db()
    return scenario


def test_the_database_refuses_a_second_processing_scenario_in_a_session(main):
    make(main, "a", status="processing")
    second = make(main, "b")

    with pytest.raises(IntegrityError), transaction.atomic():
        Scenario.objects.filter(pk=second.pk).update(status="processing")


def test_the_database_refuses_progress_outside_0_1(main):
    scenario = make(main, "a")

    with pytest.raises(IntegrityError), transaction.atomic():
        Scenario.objects.filter(pk=scenario.pk).update(progress=1.5)


def test_claim_takes_the_oldest_queued_and_only_one(main):
    now = timezone.now()
    later = make(main, "later", status="queued", queued_at=now)
    first = make(main, "first", status="queued", queued_at=now - timedelta(seconds=5))

    claimed = services.scenario_claim_next(session_id=main.pk, worker="w")

    assert claimed[0] == first.pk
    assert services.scenario_claim_next(session_id=main.pk, worker="w") is None  # one at a time
    later.refresh_from_db()
    assert later.status == "queued"


def test_a_stale_token_cannot_write(main):
    scenario = make(main, "a", status="queued", queued_at=timezone.now())
    scenario_id, token = services.scenario_claim_next(session_id=main.pk)
    Scenario.objects.filter(pk=scenario_id).update(run_token=None)

    with pytest.raises(services.RunAbandoned):
        services.scenario_report_progress(scenario_id=scenario_id, token=token, progress=0.5)
    assert services.scenario_finish(scenario_id=scenario_id, token=token, result={}) is False
    scenario.refresh_from_db()
    assert scenario.status == "processing" and scenario.progress == 0.0


def test_sweep_requeues_then_fails_a_scenario_without_heartbeat(main, settings):
    settings.SCENARIOS_HEARTBEAT_TIMEOUT = 30
    old = timezone.now() - timedelta(seconds=60)
    scenario = make(main, "a", status="processing", heartbeat_at=old, attempts=1, worker="w1@host")
    fresh = make(main, "b", status="queued", queued_at=timezone.now())

    assert services.scenarios_sweep()["requeued"] == 1
    scenario.refresh_from_db()
    assert scenario.status == "queued" and "w1@host stopped reporting" in scenario.error

    Scenario.objects.filter(pk=scenario.pk).update(status="processing", heartbeat_at=old, attempts=2)
    assert services.scenarios_sweep()["failed"] == 1
    scenario.refresh_from_db()
    assert scenario.status == "failed" and scenario.finished_at is not None
    fresh.refresh_from_db()
    assert fresh.status == "queued"


def test_sweep_leaves_a_beating_scenario_alone(main):
    scenario = make(main, "a", status="processing", heartbeat_at=timezone.now(), attempts=1)

    assert services.scenarios_sweep() == {"requeued": 0, "failed": 0, "woken": 0}
    scenario.refresh_from_db()
    assert scenario.status == "processing"


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_result_that_json_cannot_hold_fails_the_run_with_a_reason(main, bad):
    make(main, "a", status="queued", queued_at=timezone.now())
    scenario_id, token = services.scenario_claim_next(session_id=main.pk)

    assert services.scenario_finish(scenario_id=scenario_id, token=token, result={"extra": [1.0, bad]})

    scenario = Scenario.objects.get(pk=scenario_id)
    assert scenario.status == "failed"
    assert (
        scenario.error == "The algorithm's result cannot be stored: result.extra.1: must be a finite number"
    )
    assert scenario.result is None


@pytest.fixture
def dispatches_published():
    """Session ids of the scenario_dispatch messages published (Celery's own signal)."""
    from celery.signals import before_task_publish

    published = []

    def record(sender=None, body=None, **_kwargs):
        if sender == "scenarios_app.tasks.scenario_dispatch":
            published.append(body[0][0])

    before_task_publish.connect(record, weak=False)
    yield published
    before_task_publish.disconnect(record)


def test_a_run_in_an_idle_session_publishes_its_dispatcher(
    main, dispatches_published, django_capture_on_commit_callbacks
):
    scenario = make(main, "idle")

    with django_capture_on_commit_callbacks(execute=True):
        services.scenario_run(scenario=scenario)

    assert dispatches_published == [str(main.pk)]


def test_a_run_behind_a_processing_scenario_publishes_no_dispatcher(
    main, dispatches_published, django_capture_on_commit_callbacks
):
    """The processing run's worker enqueues the next when it ends (tasks.scenario_dispatch):
    test_tasks.py's queue-order test runs four at once on real workers that way."""
    make(main, "running", status="queued", queued_at=timezone.now())
    assert services.scenario_claim_next(session_id=main.pk) is not None
    waiting = make(main, "waiting")

    with django_capture_on_commit_callbacks(execute=True):
        services.scenario_run(scenario=waiting)

    assert dispatches_published == []
    assert Scenario.objects.get(pk=waiting.pk).status == "queued"


# --- Sessions ---------------------------------------------------------------------------------


def test_session_create_configures_every_algorithm_and_kpi_and_may_bring_master_data(db):
    owner = UserFactory()

    session = services.session_create(display_name="study", with_master_data=True, owner=owner)

    assert session.owner == owner
    assert session.algorithms == algorithms.ALGORITHM_NAMES and session.kpis == kpis.KPI_NAMES
    assert list(session.datasets.values_list("key", flat=True)) == ["Master data"]


def test_session_create_refuses_a_display_name_taken(main):
    with pytest.raises(Conflict, match="'main' already exists"):
        services.session_create(display_name="main")


def test_session_ensure_default_creates_main_only_when_there_is_no_session(main):
    assert services.session_ensure_default() is None

    RunnerSession.objects.all().delete()
    created = services.session_ensure_default()

    assert created.display_name == "main" and created.datasets.filter(key="Master data").exists()


def test_session_copy_copies_datasets_and_results_and_queues_nothing(main):
    done = make(main, "done", status="complete", progress=1.0, result={"x": 1}, finished_at=timezone.now())
    make(main, "waiting", status="queued", queued_at=timezone.now())
    owner = UserFactory()

    copy = services.session_copy(session=main, new_display_name="copy", owner=owner)

    copied = {scenario.tag: scenario for scenario in copy.scenarios.all()}
    assert copied["done"].status == "complete" and copied["done"].result == done.result
    assert copied["waiting"].status == "created" and copied["waiting"].queued_at is None
    assert {dataset.owner for dataset in copy.datasets.all()} == {owner}
    assert copied["done"].dataset.session == copy


def test_session_rename_refuses_another_sessions_name(main):
    other = services.session_create(display_name="other")

    assert services.session_rename(session=other, display_name="renamed").display_name == "renamed"
    with pytest.raises(Conflict):
        services.session_rename(session=other, display_name="main")


def test_session_delete_of_the_last_session_leaves_a_fresh_main(main):
    make(main, "a")

    services.session_delete(session=main)

    fresh = RunnerSession.objects.get()
    assert fresh.display_name == "main" and fresh.pk != main.pk and not fresh.scenarios.exists()


# --- Datasets ---------------------------------------------------------------------------------


def test_dataset_store_creates_then_overwrites_the_tables(main):
    first = services.dataset_store(session=main, key="d", schema="load_profile", tables={"a": 1})

    second = services.dataset_store(session=main, key="d", schema="load_profile", tables={"b": 2})

    assert second.pk == first.pk and Dataset.objects.get(pk=first.pk).tables == {"b": 2}


def test_dataset_store_refuses_to_overwrite_someone_elses_dataset(main):
    owner, stranger = UserFactory(), UserFactory()
    services.dataset_store(session=main, key="d", schema="load_profile", tables={}, owner=owner)

    with pytest.raises(Forbidden):
        services.dataset_store(session=main, key="d", schema="load_profile", tables={"x": 1}, owner=stranger)


def test_dataset_delete_refuses_a_dataset_in_use(main):
    make(main, "a")
    master = main.datasets.get(key="Master data")
    unused = services.dataset_derive(dataset=master, new_key="unused")

    with pytest.raises(Conflict, match="used by 1 scenario"):
        services.dataset_delete(dataset=master)
    services.dataset_delete(dataset=unused)
    assert not main.datasets.filter(key="unused").exists()


def test_dataset_derive_copies_the_tables_and_remembers_the_source(main):
    master = main.datasets.get(key="Master data")

    derived = services.dataset_derive(dataset=master, new_key="derived")

    assert derived.tables == master.tables and derived.parameters["derived_from"] == "Master data"
    with pytest.raises(Conflict):
        services.dataset_derive(dataset=master, new_key="derived")


def test_dataset_ingest_json_stores_all_or_nothing(main):
    good = {**datasets.dataset_to_json(main.datasets.get(key="Master data")), "key": "good"}
    bad = {**good, "key": "bad", "schema": "nope"}

    with pytest.raises(services.Invalid, match="Unknown dataset schema 'nope'"):
        services.dataset_ingest_json(session=main, payload=[good, bad])
    assert not main.datasets.filter(key="good").exists()
    stored = services.dataset_ingest_json(session=main, payload=good)
    assert [dataset.key for dataset in stored] == ["good"]


# --- Scenarios --------------------------------------------------------------------------------


def test_scenario_create_refuses_a_tag_taken(main):
    make(main, "a")

    with pytest.raises(services.TagTaken):
        make(main, "a")


def test_scenario_create_reports_a_tag_taken_before_a_bad_parameter(main):
    make(main, "a")

    with pytest.raises(services.TagTaken):
        services.scenario_create(
            session=main, tag="a", dataset_key="Master data", algo_name="Slow", algo_params={"duration": -1}
        )


def test_scenario_delete_of_a_processing_scenario_wakes_the_session(
    main, dispatches_published, django_capture_on_commit_callbacks
):
    scenario = make(main, "a", status="processing")

    with django_capture_on_commit_callbacks(execute=True):
        services.scenario_delete(scenario=scenario)

    assert not Scenario.objects.filter(pk=scenario.pk).exists()
    assert dispatches_published == [str(main.pk)]


def test_session_dispatch_on_commit_waits_for_the_commit(
    main, dispatches_published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.session_dispatch_on_commit(session_id=main.pk)
        assert dispatches_published == []

    assert dispatches_published == [str(main.pk)]


def test_scenario_run_refuses_a_scenario_not_created(main):
    scenario = make(main, "a", status="complete")

    with pytest.raises(services.NotRunnable, match="is complete, not created"):
        services.scenario_run(scenario=scenario)


def test_scenario_reset_clears_a_result_and_refuses_a_scenario_in_flight(main):
    done = make(main, "done", status="complete", progress=1.0, result={"x": 1}, finished_at=timezone.now())
    queued = make(main, "queued", status="queued", queued_at=timezone.now())

    reset = services.scenario_reset(scenario=done)

    assert (reset.status, reset.progress, reset.result, reset.finished_at) == ("created", 0.0, None, None)
    with pytest.raises(Conflict, match="wait for it to complete or fail"):
        services.scenario_reset(scenario=queued)


def test_scenario_heartbeat_beats_only_with_the_runs_token(main):
    make(main, "a", status="queued", queued_at=timezone.now())
    scenario_id, token = services.scenario_claim_next(session_id=main.pk)
    Scenario.objects.filter(pk=scenario_id).update(heartbeat_at=None)

    assert services.scenario_heartbeat(scenario_id=scenario_id, token=uuid.uuid4()) is False
    assert services.scenario_heartbeat(scenario_id=scenario_id, token=token) is True
    assert Scenario.objects.get(pk=scenario_id).heartbeat_at is not None


def test_scenario_finish_stores_the_result_and_the_sessions_kpis(main):
    make(main, "a", status="queued", queued_at=timezone.now())
    scenario_id, token = services.scenario_claim_next(session_id=main.pk)

    assert services.scenario_finish(scenario_id=scenario_id, token=token, result={}, kpi_names=[])

    scenario = Scenario.objects.get(pk=scenario_id)
    assert (scenario.status, scenario.progress, scenario.result) == ("complete", 1.0, {})
    assert scenario.kpi_values == {}
