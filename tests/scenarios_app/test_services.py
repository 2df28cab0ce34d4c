"""Services of the runner: the database invariants, claiming, the sweep, and run tokens."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from scenarios_app import services
from scenarios_app.models import Scenario

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
