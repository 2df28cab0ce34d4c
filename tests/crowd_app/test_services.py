"""Services: majority voting, leases, exclusions, secrets."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from crowd_app import webhooks
from crowd_app.models import CrowdAnswer, CrowdRequest, TaskLease
from crowd_app.selectors import webhook_secret_get
from crowd_app.services import (
    ServiceError,
    answer_submit,
    crowd_account_create,
    cruncher_for_user,
    request_create,
    task_take_next,
    webhook_secret_rotate,
)
from crowd_app.validation import answer_key
from tests.crowd_app.webhook_signatures import webhook_verified
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_api_key(account):
    from crowd_app.services import crowd_api_key_create

    return crowd_api_key_create(account=account)[0]


def make(api_key, request_type="multiple-choice", **body):
    body = {"instruction": "Pick", "choices": ["a", "b", "c"], **body}
    return request_create(api_key=api_key, request_type=request_type, body=body)


def crunchers(count):
    return [cruncher_for_user(user=UserFactory()) for _ in range(count)]


def answer(crowd_request, cruncher, response):
    taken = task_take_next(cruncher=cruncher)
    assert taken == crowd_request
    return answer_submit(crowd_request=crowd_request, cruncher=cruncher, response=response)


def test_first_answer_completes_without_confidence(live_api_key):
    crowd_request = make(live_api_key)
    [cruncher] = crunchers(1)

    done = answer(crowd_request, cruncher, ["b"])

    assert (done.status, done.response) == ("complete", ["b"])
    assert not TaskLease.objects.exists()


def test_majority_agreement_is_order_insensitive(live_api_key):
    crowd_request = make(live_api_key, max_answers=0, confidence={"min_agreements": 2, "max_crunchers": 3})
    one, two, three = crunchers(3)

    assert answer(crowd_request, one, ["a", "c"]).status == "pending"
    assert answer(crowd_request, two, ["b"]).status == "pending"
    done = answer(crowd_request, three, ["c", "a"])

    assert done.status == "complete"
    assert sorted(done.response) == ["a", "c"]


def test_no_agreement_after_max_crunchers_gives_null(live_api_key):
    crowd_request = make(
        live_api_key, confidence={"strategy": "majority", "min_agreements": 2, "max_crunchers": 3}
    )
    for cruncher, choice in zip(crunchers(3), "abc", strict=True):
        done = answer(crowd_request, cruncher, [choice])

    assert (done.status, done.response) == ("complete", None)
    assert CrowdAnswer.objects.filter(request=crowd_request).count() == 3


def test_a_cruncher_never_gets_a_task_twice_nor_one_that_excludes_them(live_api_key):
    one, two = crunchers(2)
    excluded = make(live_api_key, exclude_crunchers=[one.cruncher_id])
    voted = make(live_api_key, confidence={"min_agreements": 2, "max_crunchers": 3})

    assert task_take_next(cruncher=one) == voted
    answer_submit(crowd_request=voted, cruncher=one, response=["a"])
    assert task_take_next(cruncher=one) is None  # answered one, excluded from the other
    with pytest.raises(ServiceError):
        answer_submit(crowd_request=excluded, cruncher=one, response=["a"])
    assert task_take_next(cruncher=two) == excluded


def test_one_holder_at_a_time_until_the_lease_expires(live_api_key):
    crowd_request = make(live_api_key, confidence={"min_agreements": 2, "max_crunchers": 3})
    one, two = crunchers(2)

    assert task_take_next(cruncher=one) == crowd_request
    assert task_take_next(cruncher=one) == crowd_request  # still theirs
    assert task_take_next(cruncher=two) is None
    with pytest.raises(ServiceError, match="expired"):
        answer_submit(crowd_request=crowd_request, cruncher=two, response=["a"])

    TaskLease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert task_take_next(cruncher=two) == crowd_request
    with pytest.raises(ServiceError, match="expired"):
        answer_submit(crowd_request=crowd_request, cruncher=one, response=["a"])


def test_staging_requests_never_reach_people(account):
    from crowd_app.services import crowd_api_key_create

    test_key = crowd_api_key_create(account=account, test=True)[0]
    make(test_key)
    [cruncher] = crunchers(1)

    assert task_take_next(cruncher=cruncher) is None


def test_answers_are_validated(live_api_key):
    crowd_request = make(live_api_key, max_answers=1)
    [cruncher] = crunchers(1)
    task_take_next(cruncher=cruncher)

    for bad in (["z"], [], ["a", "b"], "a"):
        with pytest.raises(ServiceError):
            answer_submit(crowd_request=crowd_request, cruncher=cruncher, response=bad)
    assert CrowdRequest.objects.get(pk=crowd_request.pk).status == "pending"


def test_one_answer_per_cruncher_is_a_database_rule(live_api_key):
    crowd_request = make(live_api_key, confidence={"min_agreements": 3, "max_crunchers": 5})
    [cruncher] = crunchers(1)
    CrowdAnswer.objects.create(request=crowd_request, cruncher=cruncher, response=["a"])

    with pytest.raises(IntegrityError):
        CrowdAnswer.objects.create(request=crowd_request, cruncher=cruncher, response=["b"])


@pytest.mark.parametrize(
    ("request_type", "first", "second", "same"),
    [
        ("multiple-choice", ["a", "b"], ["b", "a"], True),
        ("free-text", "Hello World ", "hello world", True),
        ("rating", 5, 10, False),
        ("annotations", [{"x": 1, "y": 2}, {"x": 3, "y": 4}], [{"x": 3, "y": 4}, {"x": 1, "y": 2}], True),
    ],
)
def test_answer_key(request_type, first, second, same):
    assert (answer_key(request_type, first) == answer_key(request_type, second)) is same


def test_webhook_secret_is_encrypted_and_rotates(account):
    secret = webhook_secret_get(account=account)

    assert secret.startswith("whsec_")
    assert secret not in account.webhook_secret_encrypted
    assert webhooks.secret_decrypt(account.webhook_secret_encrypted) == secret
    rotated = webhook_secret_rotate(account=account)
    assert rotated != secret and webhook_secret_get(account=account) == rotated


def test_resolve_safe_refuses_private_addresses(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    for url in (
        "http://127.0.0.1/",
        "http://localhost:8000/",
        "http://169.254.169.254/latest",
        "http://[::ffff:10.0.0.1]/",
    ):
        with pytest.raises(webhooks.UnsafeURL):
            webhooks.resolve_safe(url)
    settings.WEBHOOK_ALLOW_PRIVATE = True
    webhooks.resolve_safe("http://127.0.0.1/")


def test_delivery_connects_to_the_checked_address_not_a_second_dns_answer(
    account, settings, monkeypatch, receiver
):
    """DNS rebinding: the name is resolved once at creation and once at delivery, checked, and
    the delivery connects to the address it checked, with the URL's own name in the Host
    header (a third lookup, by the HTTP client, would get another answer)."""
    import socket
    import uuid

    from crowd_app.models import WebhookDelivery
    from crowd_app.services import crowd_api_key_create
    from crowd_app.tasks import deliver_webhook

    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on loopback
    port = receiver.url.split(":")[2].split("/")[0]
    real_getaddrinfo = socket.getaddrinfo
    lookups = []

    def getaddrinfo(host, *args, **kwargs):
        if host != "hooks.example.test":
            return real_getaddrinfo(host, *args, **kwargs)  # numeric addresses
        lookups.append(host)
        if len(lookups) > 2:
            raise socket.gaierror("a third answer would point elsewhere")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    api_key = crowd_api_key_create(account=account)[0]
    url = f"http://hooks.example.test:{port}/hook"
    crowd_request = request_create(
        api_key=api_key, request_type="free-text", body={"instruction": "x", "hook_url": url}
    )
    # Completed without its hook URL, so that no delivery is queued for a worker left running
    # by earlier tests (it would ask the real DNS for the made-up name).
    CrowdRequest.objects.filter(pk=crowd_request.pk).update(hook_url="")
    crowd_request.refresh_from_db()
    cruncher = cruncher_for_user(user=UserFactory())
    task_take_next(cruncher=cruncher)
    answer_submit(crowd_request=crowd_request, cruncher=cruncher, response="done")
    CrowdRequest.objects.filter(pk=crowd_request.pk).update(hook_url=url)

    message_id = f"msg_{uuid.uuid4().hex}"
    deliver_webhook.run(str(crowd_request.pk), message_id, 1)

    [(headers, body, _at)] = receiver.received
    assert lookups == ["hooks.example.test", "hooks.example.test"]
    assert {k.lower(): v for k, v in headers.items()}["host"] == f"hooks.example.test:{port}"
    assert webhook_verified(webhook_secret_get(account=account), headers, body)
    assert WebhookDelivery.objects.get(message_id=message_id).outcome == "succeeded"


def test_resolve_safe_pins_https_with_sni(settings, monkeypatch):
    import socket

    settings.WEBHOOK_ALLOW_PRIVATE = False
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *args, **kwargs: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))],
    )

    target = webhooks.resolve_safe("https://hooks.example.com/in?x=1")

    assert target == webhooks.Target(
        url="https://93.184.215.14/in?x=1", host_header="hooks.example.com", sni_hostname="hooks.example.com"
    )


def test_a_taken_account_name_is_a_conflict():
    crowd_account_create(owner=UserFactory(), name="acme")

    with pytest.raises(ServiceError) as raised:
        crowd_account_create(owner=UserFactory(), name="acme")

    assert raised.value.status == 409
    assert "acme" in raised.value.message


# --- Services written without a page or a worker in between (a test transaction: what they
# send on commit is captured, not sent) ---------------------------------------------------------


@pytest.fixture
def quiet_key(db):
    """A live key of an account made in a test transaction."""
    from crowd_app.services import crowd_api_key_create

    account = crowd_account_create(owner=UserFactory(), name="quiet")
    return crowd_api_key_create(account=account)[0]


def _completed(api_key, hook_url="http://127.0.0.1:9/hook"):
    """A live request with a hook URL, answered by one cruncher: complete, its first attempt queued."""
    crowd_request = make(api_key, hook_url=hook_url)
    [cruncher] = crunchers(1)
    answer(crowd_request, cruncher, ["a"])
    crowd_request.refresh_from_db()
    return crowd_request


@pytest.mark.django_db
def test_a_revoked_key_is_no_longer_active(quiet_key):
    from crowd_app.models import CrowdApiKey
    from crowd_app.services import crowd_api_key_revoke

    crowd_api_key_revoke(api_key=quiet_key)

    assert not CrowdApiKey.objects.filter(CrowdApiKey.active_q(), pk=quiet_key.pk).exists()


@pytest.mark.django_db
def test_webhook_secret_ensure_creates_one_only_when_missing(quiet_key):
    from crowd_app.services import webhook_secret_ensure

    account = quiet_key.account
    secret = webhook_secret_get(account=account)
    assert webhook_secret_ensure(account=account) == secret
    account.webhook_secret_encrypted = ""
    assert webhook_secret_get(account=account) == ""

    created = webhook_secret_ensure(account=account)

    assert created.startswith("whsec_") and created != secret
    account.refresh_from_db()
    assert webhook_secret_get(account=account) == created


@pytest.mark.django_db
def test_staging_request_answer_completes_with_the_robots_once(db):
    from crowd_app.services import crowd_api_key_create, staging_request_answer

    account = crowd_account_create(owner=UserFactory(), name="staging")
    test_key = crowd_api_key_create(account=account, test=True)[0]
    crowd_request = make(test_key, confidence={"min_agreements": 2, "max_crunchers": 3})

    staging_request_answer(request_id=str(crowd_request.pk))
    staging_request_answer(request_id=str(crowd_request.pk))  # again: nothing more

    crowd_request.refresh_from_db()
    assert crowd_request.status == "complete"
    assert all(a.cruncher.simulated for a in crowd_request.answers.all())
    assert crowd_request.answers.count() in (2, 3)


@pytest.mark.django_db
def test_cruncher_simulated_is_made_once(db):
    from crowd_app.services import cruncher_simulated

    robot = cruncher_simulated(number=7)

    assert robot.simulated and robot.name == "staging-robot-7"
    assert cruncher_simulated(number=7) == robot


@pytest.mark.django_db
def test_cruncher_for_user_is_made_once(db):
    user = UserFactory()

    cruncher = cruncher_for_user(user=user)

    assert not cruncher.simulated and cruncher.name == user.username
    assert cruncher_for_user(user=user) == cruncher


@pytest.mark.django_db
def test_an_aborted_request_is_done_and_cannot_be_aborted_twice(quiet_key):
    from crowd_app.services import request_abort

    crowd_request = make(quiet_key)

    assert request_abort(crowd_request=crowd_request).status == "aborted"
    with pytest.raises(ServiceError, match="only pending requests can be aborted"):
        request_abort(crowd_request=crowd_request)


@pytest.mark.django_db
def test_a_released_task_is_free_for_the_next_cruncher(quiet_key):
    from crowd_app.services import task_release

    crowd_request = make(quiet_key)
    one, two = crunchers(2)
    assert task_take_next(cruncher=one) == crowd_request
    assert task_take_next(cruncher=two) is None

    task_release(cruncher=one)

    assert task_take_next(cruncher=two) == crowd_request


@pytest.mark.django_db
def test_expired_leases_are_dropped(quiet_key):
    from crowd_app.services import task_leases_expire

    make(quiet_key)
    make(quiet_key)
    one, two = crunchers(2)
    task_take_next(cruncher=one)
    task_take_next(cruncher=two)
    TaskLease.objects.filter(cruncher=one).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert task_leases_expire() == 1
    assert list(TaskLease.objects.values_list("cruncher", flat=True)) == [two.pk]


@pytest.mark.django_db
def test_a_skipped_task_is_handed_back_and_remembered(quiet_key):
    from crowd_app.models import TaskSkip
    from crowd_app.services import task_skip

    crowd_request = make(quiet_key)
    [cruncher] = crunchers(1)
    assert task_skip(cruncher=cruncher) is None  # nothing held
    task_take_next(cruncher=cruncher)

    assert task_skip(cruncher=cruncher) == crowd_request
    assert not TaskLease.objects.filter(cruncher=cruncher).exists()
    assert TaskSkip.objects.filter(cruncher=cruncher, request=crowd_request).exists()


@pytest.mark.django_db
def test_webhook_enqueue_makes_the_first_attempt_pending_and_sends_it_after_commit(
    quiet_key, django_capture_on_commit_callbacks
):
    from crowd_app.models import WebhookDelivery
    from crowd_app.services import webhook_enqueue

    crowd_request = _completed(quiet_key)
    with django_capture_on_commit_callbacks() as callbacks:
        message_id = webhook_enqueue(crowd_request=crowd_request)

    row = WebhookDelivery.objects.get(message_id=message_id)
    assert (row.attempt, row.outcome, row.url) == (1, "pending", crowd_request.hook_url)
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_an_attempt_is_claimed_once(quiet_key):
    from crowd_app.models import WebhookDelivery
    from crowd_app.services import webhook_attempt_claim

    crowd_request = _completed(quiet_key)
    [row] = WebhookDelivery.objects.filter(request=crowd_request)
    claim = {"request_id": str(crowd_request.pk), "message_id": row.message_id, "attempt": 1}

    assert webhook_attempt_claim(**claim) == crowd_request
    assert webhook_attempt_claim(**claim) is None
    row.refresh_from_db()
    assert row.outcome == "sending" and row.started_at is not None


@pytest.mark.django_db
def test_a_failed_attempt_worth_retrying_raises_delivery_retry_once_recorded(quiet_key, settings):
    from crowd_app.models import WebhookDelivery
    from crowd_app.services import webhook_attempt_deliver

    settings.WEBHOOK_ALLOW_PRIVATE = True
    crowd_request = _completed(quiet_key, hook_url="http://127.0.0.1:9/hook")  # nothing listens
    [row] = WebhookDelivery.objects.filter(request=crowd_request)

    with pytest.raises(webhooks.DeliveryRetry):
        webhook_attempt_deliver(request_id=str(crowd_request.pk), message_id=row.message_id, attempt=1)

    outcomes = dict(WebhookDelivery.objects.filter(request=crowd_request).values_list("attempt", "outcome"))
    assert outcomes == {1: "retrying", 2: "pending"}


@pytest.mark.django_db
def test_a_replay_is_a_new_message_of_a_completed_request_only(quiet_key):
    from crowd_app.models import WebhookDelivery
    from crowd_app.services import webhook_replay

    crowd_request = _completed(quiet_key)
    [first] = WebhookDelivery.objects.filter(request=crowd_request)

    message_id = webhook_replay(crowd_request=crowd_request)

    assert message_id != first.message_id
    assert CrowdRequest.objects.get(pk=crowd_request.pk).webhook_state == "pending"
    with pytest.raises(ServiceError, match="Only completed requests"):
        webhook_replay(crowd_request=make(quiet_key))


@pytest.mark.django_db
def test_a_media_answer_is_stored_under_an_unguessable_name(quiet_key, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crowd_app.services import media_answer_store

    default = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)},
    }
    settings.STORAGES = {**settings.STORAGES, "default": default}
    crowd_request = make(quiet_key, "image", attachments_type="text", attachments=["a"])
    upload = SimpleUploadedFile("cat.PNG", b"\x89PNG", content_type="image/png")

    url = media_answer_store(crowd_request=crowd_request, upload=upload)

    assert url.startswith(settings.CROWD_PUBLIC_URL.rstrip("/")) and url.endswith(".png")
    assert str(crowd_request.pk) in url
    with pytest.raises(ServiceError, match="an image file is required"):
        media_answer_store(
            crowd_request=crowd_request, upload=SimpleUploadedFile("a.txt", b"x", content_type="text/plain")
        )
    with pytest.raises(ServiceError, match="choose a file"):
        media_answer_store(crowd_request=crowd_request, upload=None)


def test_the_api_keeps_its_documented_answer_errors(live_api_key):
    crowd_request = request_create(
        api_key=live_api_key, request_type="free-text", body={"instruction": "Do it"}
    )
    cruncher = cruncher_for_user(user=UserFactory())
    task_take_next(cruncher=cruncher)
    with pytest.raises(ServiceError, match=r"^response: must be a non-empty text$"):
        answer_submit(crowd_request=crowd_request, cruncher=cruncher, response=" ")
