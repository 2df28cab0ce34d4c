"""Asynchronous flows with a real Celery worker: staging answers, blocking calls that come back
complete, majority voting, signed webhooks with retries."""

import json
import time

import pytest

from crowd_app import webhooks
from crowd_app.models import CrowdAccount, CrowdRequest, WebhookDelivery
from crowd_app.selectors import webhook_secret_get
from crowd_app.validation import answer_clean
from tests.crowd_app.examples import EXAMPLES, VIOLENCE
from tests.crowd_app.webhook_signatures import webhook_verified

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_document_examples_with_block_30_come_back_complete(celery_worker, api, name):
    path, body = EXAMPLES[name]

    started = time.monotonic()
    response = api.post(path, body)

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "complete", data
    assert time.monotonic() - started < 15
    request_type = path.split("/")[-1].split("?")[0]
    assert data["type"] == request_type
    params = {
        key: value
        for key, value in data.items()
        if key not in ("id", "status", "response", "raw_responses", "crunchers")
    }
    assert answer_clean(request_type, params, data["response"]) == data["response"]  # valid, right shape
    assert set(data["raw_responses"]) == set(data["crunchers"])
    if name == "majority-voting":
        # The document's example: three crunchers, two agree.
        assert len(data["raw_responses"]) == 3
        assert sum(answer == data["response"] for answer in data["raw_responses"].values()) == 2
    else:
        assert len(data["crunchers"]) == 1
    again = api.get(f"/v1/requests/{data['id']}?block=30")
    assert again.json() == data


def test_get_with_block_wakes_when_the_staging_answer_arrives(celery_worker, api):
    created = api.post("/v1/requests/free-text", {"instruction": "Translate", "attachments": ["hola"]}).json()
    assert created["status"] == "pending"

    response = api.get(f"/v1/requests/{created['id']}?block=30")

    assert response.json()["status"] == "complete"
    assert isinstance(response.json()["response"], str)


def test_exclude_crunchers_are_respected_by_the_robots(celery_worker, api):
    first = api.post("/v1/requests/free-text?block=30", {"instruction": "x"}).json()
    robot = first["crunchers"][0]

    second = api.post(
        "/v1/requests/free-text?block=30", {"instruction": "x", "exclude_crunchers": [robot]}
    ).json()

    assert second["status"] == "complete"
    assert robot not in second["raw_responses"]


def test_webhook_is_signed_and_recorded(celery_worker, api, receiver):
    data = api.post("/v1/requests/multiple-choice?block=30", {**VIOLENCE, "hook_url": receiver.url}).json()
    assert data["status"] == "complete"

    [(headers, body, _at)] = receiver.wait_for(1)

    secret = webhook_secret_get(account=CrowdAccount.objects.get(name="acme"))
    assert webhook_verified(secret, headers, body)
    assert not webhook_verified(webhooks.secret_generate(), headers, body)
    assert json.loads(body) == data
    assert headers["webhook-id"].startswith("msg_")
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    _wait_for_state(data["id"], "delivered")
    [delivery] = WebhookDelivery.objects.filter(request_id=data["id"])
    assert (delivery.outcome, delivery.status_code, delivery.attempt) == ("succeeded", 200, 1)


def test_webhook_retries_with_backoff_then_succeeds(celery_worker, api, make_receiver):
    receiver = make_receiver([503, 500, 200])
    data = api.post("/v1/requests/free-text?block=30", {"instruction": "x", "hook_url": receiver.url}).json()

    received = receiver.wait_for(3)

    assert len(received) == 3
    secret = webhook_secret_get(account=CrowdAccount.objects.get(name="acme"))
    assert all(webhook_verified(secret, headers, body) for headers, body, _ in received)
    assert len({headers["webhook-id"] for headers, _, _ in received}) == 1  # one message, retried
    gaps = [received[1][2] - received[0][2], received[2][2] - received[1][2]]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.18  # Celery's backoff: 1 s, then 2 s (no jitter here)
    _wait_for_state(data["id"], "delivered")
    outcomes = list(
        WebhookDelivery.objects.filter(request_id=data["id"])
        .order_by("attempt")
        .values_list("outcome", "status_code")
    )
    assert outcomes == [("retrying", 503), ("retrying", 500), ("succeeded", 200)]


def test_webhook_gives_up_after_the_last_attempt(celery_worker, api, make_receiver):
    receiver = make_receiver([500])
    data = api.post("/v1/requests/free-text?block=30", {"instruction": "x", "hook_url": receiver.url}).json()

    received = receiver.wait_for(3)

    _wait_for_state(data["id"], "failed")
    secret = webhook_secret_get(account=CrowdAccount.objects.get(name="acme"))
    assert all(webhook_verified(secret, headers, body) for headers, body, _ in received)
    outcomes = list(
        WebhookDelivery.objects.filter(request_id=data["id"])
        .order_by("attempt")
        .values_list("outcome", flat=True)
    )
    assert outcomes == ["retrying", "retrying", "failed"]


def test_webhook_connection_refused_is_retried(celery_worker, api, make_receiver):
    receiver = make_receiver([200])
    url = receiver.url
    receiver.close()  # nothing listens there any more
    data = api.post("/v1/requests/free-text?block=30", {"instruction": "x", "hook_url": url}).json()

    _wait_for_state(data["id"], "failed")
    deliveries = WebhookDelivery.objects.filter(request_id=data["id"]).order_by("attempt")
    assert [d.attempt for d in deliveries] == [1, 2, 3]
    assert all("ConnectError" in d.error for d in deliveries)


def _wait_for_state(request_id, state, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if CrowdRequest.objects.get(pk=request_id).webhook_state == state:
            return
        time.sleep(0.1)
    raise AssertionError(f"webhook of {request_id} never became {state}")


@pytest.mark.parametrize(
    ("request_type", "magic"), [("image", b"\x89PNG"), ("video", b"\x1aE\xdf\xa3"), ("audio", b"RIFF")]
)
def test_staging_media_answers_are_real_files(celery_worker, api, live_url, request_type, magic):
    import httpx

    data = api.post(f"/v1/requests/{request_type}?block=30", {"instruction": "A sample"}).json()

    assert data["status"] == "complete"
    path = data["response"].split("/static/", 1)[1]
    served = httpx.get(f"{live_url}/static/{path}")
    assert served.status_code == 200 and served.content.startswith(magic)
