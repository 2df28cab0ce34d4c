"""No crowd work is lost: the sweeps re-send staging answers and webhook deliveries whose message
was lost or whose worker died, from the database's state, and never send one attempt twice."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from crowd_app import services
from crowd_app.models import CrowdRequest, WebhookDelivery
from crowd_app.selectors import webhook_secret_get
from crowd_app.services import crowd_account_create, crowd_api_key_create
from crowd_app.tasks import deliver_webhook, staging_sweep, webhooks_sweep
from tests.crowd_app.factories import CrowdRequestFactory, WebhookDeliveryFactory
from tests.crowd_app.webhook_signatures import webhook_verified
from tests.factories import UserFactory
from tests.waiting import wait_for


@pytest.fixture
def quiet_account(db):
    """An account in a test transaction: what services send on commit is captured, not sent."""
    return crowd_account_create(owner=UserFactory(), name="quiet")


def _staging_request(account, *, age: float) -> CrowdRequest:
    """A pending staging request whose message never reached a worker (created as a row only)."""
    api_key = crowd_api_key_create(account=account, test=True)[0]
    crowd_request = CrowdRequestFactory(account=account, api_key=api_key, staging=True)
    CrowdRequest.objects.filter(pk=crowd_request.pk).update(
        created_at=timezone.now() - timedelta(seconds=age)
    )
    return crowd_request


def _completed_with_hook(account, url: str) -> CrowdRequest:
    api_key = crowd_api_key_create(account=account, test=False)[0]
    return CrowdRequestFactory(account=account, api_key=api_key, completed_with_hook=url)


def _attempt(crowd_request, *, outcome, attempt=1, message_id=None, **fields) -> WebhookDelivery:
    if message_id is not None:
        fields["message_id"] = message_id
    return WebhookDeliveryFactory(request=crowd_request, attempt=attempt, outcome=outcome, **fields)


# --- Staging answers --------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_staging_request_whose_message_was_lost_is_answered_after_the_sweep(celery_worker, account):
    crowd_request = _staging_request(account, age=120)

    staging_sweep.delay()  # what beat sends every CROWD_SWEEP_INTERVAL, on the sweeps queue

    wait_for(lambda: CrowdRequest.objects.get(pk=crowd_request.pk).status == "complete")
    assert CrowdRequest.objects.get(pk=crowd_request.pk).answers.count() == 1


def test_the_staging_sweep_resends_only_overdue_requests_once_per_period(
    quiet_account, settings, django_capture_on_commit_callbacks
):
    settings.CROWD_STAGING_RESEND_AFTER = 30
    overdue = _staging_request(quiet_account, age=120)
    _staging_request(quiet_account, age=5)  # its first message may still be on its way

    with django_capture_on_commit_callbacks() as sent:
        assert services.staging_sweep() == 1
    with django_capture_on_commit_callbacks() as sent_again:
        assert services.staging_sweep() == 0  # re-sent a moment ago
    later = timezone.now() + timedelta(seconds=31)
    with django_capture_on_commit_callbacks() as sent_later:
        assert services.staging_sweep(now=later) == 2  # still pending: both are overdue by then

    assert len(sent) == 1 and not sent_again and len(sent_later) == 2
    assert CrowdRequest.objects.get(pk=overdue.pk).staging_resent_at is not None


def test_the_staging_sweep_leaves_answered_requests_alone(quiet_account):
    crowd_request = _staging_request(quiet_account, age=120)
    CrowdRequest.objects.filter(pk=crowd_request.pk).update(status="aborted", completed_at=timezone.now())

    assert services.staging_sweep() == 0


# --- Webhook deliveries -----------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_lost_delivery_message_is_sent_again_by_the_sweep_and_delivered_once(
    celery_worker, account, receiver
):
    crowd_request = _completed_with_hook(account, receiver.url)
    row = _attempt(crowd_request, outcome="pending", next_attempt_at=timezone.now() - timedelta(minutes=5))

    assert services.webhooks_sweep() == {"resent": 1, "lost": 0}
    assert services.webhooks_sweep() == {"resent": 0, "lost": 0}  # not again within the period

    wait_for(lambda: CrowdRequest.objects.get(pk=crowd_request.pk).webhook_state == "delivered")
    time.sleep(0.5)
    assert [headers["webhook-id"] for headers, _, _ in receiver.received] == [row.message_id]
    secret = webhook_secret_get(account=account)
    assert all(webhook_verified(secret, headers, body) for headers, body, _ in receiver.received)
    row.refresh_from_db()
    assert (row.outcome, row.status_code, row.attempt) == ("succeeded", 200, 1)


@pytest.mark.django_db(transaction=True)
def test_one_attempt_sent_by_two_workers_at_once_reaches_the_receiver_once(account, receiver):
    crowd_request = _completed_with_hook(account, receiver.url)
    row = _attempt(crowd_request, outcome="pending", next_attempt_at=timezone.now())
    start = threading.Barrier(4)

    def deliver():
        start.wait()
        try:
            deliver_webhook.run(str(crowd_request.pk), row.message_id, 1)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(receiver.received) == 1
    [(headers, body, _at)] = receiver.received
    assert webhook_verified(webhook_secret_get(account=account), headers, body)
    assert list(WebhookDelivery.objects.values_list("attempt", "outcome")) == [(1, "succeeded")]
    assert CrowdRequest.objects.get(pk=crowd_request.pk).webhook_state == "delivered"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_attempt_whose_worker_died_is_recorded_and_retried_by_the_sweep(celery_worker, account, receiver):
    crowd_request = _completed_with_hook(account, receiver.url)
    started = timezone.now() - timedelta(minutes=10)
    row = _attempt(crowd_request, outcome="sending", started_at=started, next_attempt_at=started)

    webhooks_sweep.delay()

    wait_for(lambda: CrowdRequest.objects.get(pk=crowd_request.pk).webhook_state == "delivered")
    attempts = list(
        WebhookDelivery.objects.filter(message_id=row.message_id)
        .order_by("attempt")
        .values_list("attempt", "outcome", "error")
    )
    assert attempts[0][:2] == (1, "retrying") and "presumed dead" in attempts[0][2]
    assert attempts[1] == (2, "succeeded", "")
    assert [headers["webhook-id"] for headers, _, _ in receiver.received] == [row.message_id]
    [(headers, body, _at)] = receiver.received
    assert webhook_verified(webhook_secret_get(account=account), headers, body)


def test_a_late_worker_cannot_record_an_attempt_the_sweep_declared_lost(quiet_account, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    crowd_request = _completed_with_hook(quiet_account, "http://127.0.0.1:9/hook")
    started = timezone.now() - timedelta(minutes=10)
    row = _attempt(crowd_request, outcome="sending", started_at=started)

    assert services.webhooks_sweep() == {"resent": 0, "lost": 1}
    assert not services.webhook_attempt_record(
        request_id=str(crowd_request.pk), message_id=row.message_id, attempt=1, status_code=200
    )

    row.refresh_from_db()
    assert row.outcome == "failed" and "presumed dead" in row.error
    assert CrowdRequest.objects.get(pk=crowd_request.pk).webhook_state == "failed"


def test_a_completed_request_has_its_first_attempt_pending_before_any_worker_runs(
    quiet_account, django_capture_on_commit_callbacks
):
    from crowd_app.services import answer_submit, cruncher_for_user, request_create, task_take_next

    api_key = crowd_api_key_create(account=quiet_account)[0]
    crowd_request = request_create(
        api_key=api_key,
        request_type="free-text",
        body={"instruction": "x", "hook_url": "http://127.0.0.1:9/"},
    )
    cruncher = cruncher_for_user(user=UserFactory())
    task_take_next(cruncher=cruncher)
    with django_capture_on_commit_callbacks() as callbacks:
        answer_submit(crowd_request=crowd_request, cruncher=cruncher, response="done")

    [row] = WebhookDelivery.objects.filter(request=crowd_request)
    assert (row.attempt, row.outcome) == (1, "pending") and row.next_attempt_at is not None
    assert len(callbacks) == 2  # the message (and the wake-up) go after the commit
