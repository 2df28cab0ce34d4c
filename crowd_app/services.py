"""Writes of crowd_app: accounts and keys, requests, crunchers' tasks and answers, webhooks."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from crowd_app import media, selectors, webhooks
from crowd_app.api.inputs import request_params
from crowd_app.api.outputs import request_json
from crowd_app.models import (
    CrowdAccount,
    CrowdAnswer,
    CrowdApiKey,
    CrowdRequest,
    Cruncher,
    RequestType,
    TaskLease,
    TaskSkip,
    WebhookDelivery,
)
from crowd_app.notify import request_done_publish
from crowd_app.staging import simulated_answers
from crowd_app.validation import InvalidParams, answer_clean, answer_key
from heatportal.accounts.models import User
from heatportal.celery import enqueue_on_commit
from heatportal.credentials import credential_issue, credential_revoke
from heatportal.services import Conflict, NotFound, ServiceError

logger = logging.getLogger(__name__)

# --- Accounts, keys, webhook secrets ----------------------------------------------------------


@transaction.atomic
def crowd_account_create(*, owner: User, name: str) -> CrowdAccount:
    """A crowd account with its webhook secret. Names are unique across the portal: a taken
    name raises Conflict (the unique constraint decides, so two concurrent requests cannot both
    get it)."""
    try:
        with transaction.atomic():
            account = CrowdAccount.objects.create(owner=owner, name=name)
    except IntegrityError:
        raise Conflict(f"A crowd account named {name!r} exists already.") from None
    webhook_secret_rotate(account=account)
    return account


def crowd_api_key_create(
    *, account: CrowdAccount, test: bool = False, name: str = "", value: str | None = None
) -> tuple[CrowdApiKey, str]:
    """A new key and its full value, shown once. ``value`` installs a given key (demo data)."""
    kind = CrowdApiKey.TEST if test else CrowdApiKey.LIVE
    return credential_issue(CrowdApiKey, kind=kind, value=value, account=account, name=name)


def crowd_api_key_revoke(*, api_key: CrowdApiKey) -> None:
    credential_revoke(api_key)


def webhook_secret_rotate(*, account: CrowdAccount) -> str:
    secret = webhooks.secret_generate()
    account.webhook_secret_encrypted = webhooks.secret_encrypt(secret)
    account.webhook_secret_rotated_at = timezone.now()
    account.save(update_fields=["webhook_secret_encrypted", "webhook_secret_rotated_at"])
    return secret


def webhook_secret_ensure(*, account: CrowdAccount) -> str:
    """The account's signing secret, created on first use (accounts made outside
    ``crowd_account_create`` have none)."""
    return selectors.webhook_secret_get(account=account) or webhook_secret_rotate(account=account)


# --- Requests ---------------------------------------------------------------------------------


def _on_done(crowd_request: CrowdRequest) -> None:
    request_id = str(crowd_request.pk)
    transaction.on_commit(lambda: request_done_publish(request_id))


def request_create(*, api_key: CrowdApiKey, request_type: str, body: Any) -> CrowdRequest:
    """Validate and store a new request; staging ones are queued for the simulated crunchers.

    An invalid body raises Pydantic's ValidationError naming the field (the input models of
    :mod:`crowd_app.api.inputs`). One INSERT, in autocommit unless the caller holds a
    transaction: the staging message is sent once the row is committed either way."""
    if request_type not in RequestType.values:
        raise NotFound(f"Unknown request type {request_type!r}")
    params = request_params(request_type, body)
    if params.get("hook_url"):
        try:
            webhooks.hook_url_check(params["hook_url"])
        except webhooks.UnsafeURL as error:
            raise ServiceError(str(error)) from error
    confidence = params.get("confidence") or {}
    crowd_request = CrowdRequest.objects.create(
        account_id=api_key.account_id,
        api_key=api_key,
        type=request_type,
        params=params,
        staging=api_key.is_test,
        min_agreements=confidence.get("min_agreements", 1),
        max_crunchers=confidence.get("max_crunchers", 1),
        hook_url=params.get("hook_url", ""),
    )
    if crowd_request.staging:
        _staging_send_on_commit(str(crowd_request.pk), countdown=settings.CROWD_STAGING_DELAY)
    return crowd_request


def _staging_send_on_commit(request_id: str, *, countdown: float = 0) -> None:
    enqueue_on_commit("crowd_app.tasks.staging_answer", request_id, countdown=countdown or None)


def staging_request_answer(*, request_id: str) -> None:
    """Answer a pending staging request with the simulated crunchers until it completes. Safe
    to run twice: only pending requests are answered, and every robot answers once."""
    crowd_request = CrowdRequest.objects.filter(pk=request_id, staging=True).first()
    if crowd_request is None or crowd_request.status != CrowdRequest.Status.PENDING:
        return
    answers = simulated_answers(
        crowd_request.type,
        crowd_request.params,
        min_agreements=crowd_request.min_agreements,
        max_crunchers=crowd_request.max_crunchers,
        seed=request_id,
    )
    excluded = set(crowd_request.exclude_crunchers)
    answered = set(crowd_request.answers.values_list("cruncher_id", flat=True))
    number = 0
    for answer in answers:
        while True:
            number += 1
            robot = cruncher_simulated(number=number)
            if robot.cruncher_id not in excluded and robot.pk not in answered:
                break
        try:
            crowd_request = answer_submit(crowd_request=crowd_request, cruncher=robot, response=answer)
        except ServiceError as error:
            logger.info("staging answer to %s refused: %s", request_id, error.message)
            return
        if crowd_request.status != CrowdRequest.Status.PENDING:
            return


def staging_sweep(*, now: datetime | None = None) -> int:
    """Send the simulated crunchers' message again for staging requests still pending
    ``CROWD_STAGING_RESEND_AFTER`` seconds after it was due (the message was lost, or the worker
    holding it died). Each request is re-sent at most once per that period; the task answers
    only pending requests and every cruncher answers once, so a duplicate does no harm.
    Returns how many were re-sent."""
    now = now or timezone.now()
    overdue = now - timedelta(seconds=settings.CROWD_STAGING_DELAY + settings.CROWD_STAGING_RESEND_AFTER)
    resend_before = now - timedelta(seconds=settings.CROWD_STAGING_RESEND_AFTER)
    with transaction.atomic():
        # Rows another sweep holds are skipped (PostgreSQL); it re-sends those.
        ids = list(
            CrowdRequest.objects.select_for_update(skip_locked=True)
            .filter(status=CrowdRequest.Status.PENDING, staging=True, created_at__lt=overdue)
            .filter(Q(staging_resent_at__isnull=True) | Q(staging_resent_at__lt=resend_before))
            .order_by("created_at")
            .values_list("pk", flat=True)[: settings.CROWD_SWEEP_BATCH]
        )
        CrowdRequest.objects.filter(pk__in=ids).update(staging_resent_at=now)
        for request_id in ids:
            _staging_send_on_commit(str(request_id))
    return len(ids)


@transaction.atomic
def request_abort(*, crowd_request: CrowdRequest) -> CrowdRequest:
    locked = CrowdRequest.objects.select_for_update().get(pk=crowd_request.pk)
    if locked.status != CrowdRequest.Status.PENDING:
        raise ServiceError(f"Request is {locked.status}; only pending requests can be aborted")
    locked.status = CrowdRequest.Status.ABORTED
    locked.completed_at = timezone.now()
    locked.save(update_fields=["status", "completed_at"])
    TaskLease.objects.filter(request=locked).delete()
    _on_done(locked)
    return locked


# --- Crunchers, tasks and answers -------------------------------------------------------------


def cruncher_for_user(*, user: User) -> Cruncher:
    cruncher = Cruncher.objects.filter(user=user).first()
    if cruncher is None:
        try:
            with transaction.atomic():
                cruncher = Cruncher.objects.create(
                    user=user, name=user.username, cruncher_id=uuid.uuid4().hex
                )
        except IntegrityError:
            cruncher = Cruncher.objects.get(user=user)
    return cruncher


def cruncher_simulated(*, number: int) -> Cruncher:
    """The staging robot number ``number`` (created on first use)."""
    name = f"staging-robot-{number}"
    cruncher = Cruncher.objects.filter(simulated=True, name=name).first()
    if cruncher is None:
        cruncher, _ = Cruncher.objects.get_or_create(
            simulated=True, name=name, defaults={"cruncher_id": uuid.uuid4().hex}
        )
    return cruncher


@transaction.atomic
def task_take_next(*, cruncher: Cruncher) -> CrowdRequest | None:
    """The task this cruncher works on now: the one they hold, or the oldest free one they may
    take (not excluded, not already answered by them, not held by somebody else)."""
    now = timezone.now()
    current = TaskLease.objects.filter(cruncher=cruncher).select_related("request").first()
    if current is not None:
        if current.expires_at > now and current.request.status == CrowdRequest.Status.PENDING:
            return current.request
        current.delete()
    expires_at = now + timedelta(seconds=settings.CROWD_LEASE_SECONDS)
    # Tasks the cruncher has not skipped first; a skipped one only when nothing else is left.
    for skipped in (False, True):
        candidates = selectors.task_list(cruncher=cruncher, now=now, skipped=skipped)
        for crowd_request in candidates.iterator(chunk_size=100):
            if cruncher.cruncher_id in crowd_request.exclude_crunchers:
                continue
            try:
                with transaction.atomic():
                    TaskLease.objects.filter(request=crowd_request, expires_at__lte=now).delete()
                    TaskLease.objects.create(request=crowd_request, cruncher=cruncher, expires_at=expires_at)
            except IntegrityError:
                continue  # somebody took it a moment ago
            return crowd_request
    return None


def task_release(*, cruncher: Cruncher) -> None:
    TaskLease.objects.filter(cruncher=cruncher).delete()


def task_leases_expire() -> int:
    """Drop leases past their expiry (taking a task ignores them anyway; this keeps pages tidy)."""
    deleted, _ = TaskLease.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


@transaction.atomic
def task_skip(*, cruncher: Cruncher) -> CrowdRequest | None:
    """Hand the held task back and remember the skip, so that *Take next task* offers this
    cruncher other tasks first. Returns the skipped request (None when they held none)."""
    lease = TaskLease.objects.filter(cruncher=cruncher).select_related("request").first()
    if lease is None:
        return None
    TaskSkip.objects.update_or_create(
        cruncher=cruncher, request=lease.request, defaults={"skipped_at": timezone.now()}
    )
    lease.delete()
    return lease.request


@transaction.atomic
def answer_submit(*, crowd_request: CrowdRequest, cruncher: Cruncher, response: Any) -> CrowdRequest:
    """Record one cruncher's answer and complete the request when enough agree (majority
    voting) or when ``max_crunchers`` have answered without agreement (response null)."""
    locked = CrowdRequest.objects.select_for_update().get(pk=crowd_request.pk)
    _answer_allowed_check(locked, cruncher)
    try:
        cleaned = answer_clean(locked.type, locked.params, response)
    except InvalidParams as error:
        raise ServiceError(error.message) from error
    try:
        with transaction.atomic():
            CrowdAnswer.objects.create(request=locked, cruncher=cruncher, response=cleaned)
    except IntegrityError:
        raise ServiceError("You have already answered this request") from None
    TaskLease.objects.filter(request=locked, cruncher=cruncher).delete()
    _votes_count(locked)
    return locked


def _answer_allowed_check(locked: CrowdRequest, cruncher: Cruncher) -> None:
    """Raise ServiceError unless ``cruncher`` may answer the (locked) request now."""
    if locked.status != CrowdRequest.Status.PENDING:
        raise ServiceError(f"This request is {locked.status}")
    if cruncher.cruncher_id in locked.exclude_crunchers:
        raise ServiceError("You are excluded from this request")
    if locked.staging != cruncher.simulated:
        raise ServiceError("Staging requests are answered by the simulated crunchers only")
    if not cruncher.simulated:
        lease = TaskLease.objects.filter(request=locked, cruncher=cruncher).first()
        if lease is None or lease.expires_at <= timezone.now():
            raise ServiceError("Your hold on this task has expired; take it again")


def _votes_count(locked: CrowdRequest) -> None:
    """Complete the request when ``min_agreements`` answers agree, or with a null response once
    ``max_crunchers`` have answered without agreement."""
    answers = list(locked.answers.all())
    groups: dict[str, list[CrowdAnswer]] = {}
    for answer in answers:
        groups.setdefault(answer_key(locked.type, answer.response), []).append(answer)
    agreed = next((group for group in groups.values() if len(group) >= locked.min_agreements), None)
    if agreed is not None:
        _complete(locked, agreed[0].response)
    elif len(answers) >= locked.max_crunchers:
        _complete(locked, None)


def _complete(crowd_request: CrowdRequest, response: Any) -> None:
    crowd_request.status = CrowdRequest.Status.COMPLETE
    crowd_request.response = response
    crowd_request.completed_at = timezone.now()
    fields = ["status", "response", "completed_at"]
    if crowd_request.hook_url:
        crowd_request.webhook_state = CrowdRequest.WebhookState.PENDING
        fields.append("webhook_state")
        webhook_enqueue(crowd_request=crowd_request)
    crowd_request.save(update_fields=fields)
    TaskLease.objects.filter(request=crowd_request).delete()
    _on_done(crowd_request)


def webhook_enqueue(*, crowd_request: CrowdRequest) -> str:
    """Queue a delivery of the request's JSON to its hook_url: its first attempt's row, due now,
    and the message, sent after the current transaction commits. Returns the webhook-id."""
    message_id = f"msg_{uuid.uuid4().hex}"
    WebhookDelivery.objects.create(
        request=crowd_request,
        message_id=message_id,
        attempt=1,
        url=crowd_request.hook_url,
        outcome=WebhookDelivery.Outcome.PENDING,
        next_attempt_at=timezone.now(),
    )
    _delivery_send_on_commit(str(crowd_request.pk), message_id, 1)
    return message_id


def _delivery_send_on_commit(request_id: str, message_id: str, attempt: int) -> None:
    enqueue_on_commit("crowd_app.tasks.deliver_webhook", request_id, message_id, attempt)


def webhook_attempt_deliver(*, request_id: str, message_id: str, attempt: int) -> None:
    """Make attempt ``attempt`` of a delivery: claim it (``webhook_attempt_claim``, so a message
    delivered twice, or sent again by the sweep, is sent to the receiver once), POST the
    request's JSON signed (``webhooks.send``) and record how it ended. Raises
    ``webhooks.DeliveryRetry`` once the next attempt's row is pending: the task's Celery retry
    options then send that attempt."""
    crowd_request = webhook_attempt_claim(request_id=request_id, message_id=message_id, attempt=attempt)
    if crowd_request is None:
        return
    sent = webhooks.send(
        url=crowd_request.hook_url,
        secret=webhook_secret_ensure(account=crowd_request.account),
        message_id=message_id,
        body=json.dumps(request_json(crowd_request)).encode(),
    )
    outcome = webhook_attempt_record(
        request_id=request_id,
        message_id=message_id,
        attempt=attempt,
        status_code=sent.status_code,
        error=sent.error,
        retry=sent.retry,
        duration_ms=sent.duration_ms,
    )
    if outcome == WebhookDelivery.Outcome.RETRYING:
        raise webhooks.DeliveryRetry(f"attempt {attempt} of {message_id}: {sent.error}")


def webhook_attempt_claim(*, request_id: str, message_id: str, attempt: int) -> CrowdRequest | None:
    """Take attempt ``attempt`` of the message for this worker: pending → sending. Returns the
    request to deliver, or None when there is nothing to send (the request is gone or not
    complete, or the attempt ran or runs elsewhere: the message was delivered twice or
    re-sent by the sweep). One atomic UPDATE (or INSERT, for an attempt without a row), so
    two workers never both send one attempt."""
    answers = Prefetch("answers", queryset=CrowdAnswer.objects.select_related("cruncher"))
    crowd_request = (
        CrowdRequest.objects.select_related("account").prefetch_related(answers).filter(pk=request_id).first()
    )
    complete = crowd_request is not None and crowd_request.status == CrowdRequest.Status.COMPLETE
    if crowd_request is None or not complete or not crowd_request.hook_url:
        return None
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        request__pk=request_id,
        message_id=message_id,
        attempt=attempt,
        outcome=WebhookDelivery.Outcome.PENDING,
    ).update(outcome=WebhookDelivery.Outcome.SENDING, started_at=now)
    if not claimed:
        try:
            with transaction.atomic():
                WebhookDelivery.objects.create(
                    request=crowd_request,
                    message_id=message_id,
                    attempt=attempt,
                    url=crowd_request.hook_url,
                    outcome=WebhookDelivery.Outcome.SENDING,
                    started_at=now,
                )
        except IntegrityError:
            return None
    return crowd_request


def webhook_attempt_record(
    *,
    request_id: str,
    message_id: str,
    attempt: int,
    status_code: int | None = None,
    error: str = "",
    retry: bool = False,
    duration_ms: int = 0,
    due: datetime | None = None,
) -> str | None:
    """Record how a sending attempt ended: when it may be retried, the next attempt's row is
    created, pending, due at ``due`` (by default the longest backoff: the retry comes at the
    latest then); else the request's ``webhook_state`` is settled. The caller sends the next
    attempt. Returns the outcome recorded (``retrying``, ``succeeded``, ``failed``), or None
    when the attempt was no longer this worker's (the sweep declared it lost)."""
    Outcome = WebhookDelivery.Outcome
    will_retry = bool(error) and retry and attempt < settings.WEBHOOK_MAX_ATTEMPTS
    if not will_retry:
        due = None
    elif due is None:
        due = timezone.now() + timedelta(seconds=webhooks.retry_delay_max(attempt))
    outcome = Outcome.SUCCEEDED if not error else Outcome.RETRYING if will_retry else Outcome.FAILED
    # Autocommitted statements, not one transaction: at one delivery per task the round trips
    # of BEGIN/COMMIT are a good part of its cost. Each step is guarded by the row's state,
    # and the next attempt's row exists before its message is sent.
    recorded = WebhookDelivery.objects.filter(
        request__pk=request_id, message_id=message_id, attempt=attempt, outcome=Outcome.SENDING
    ).update(
        outcome=outcome,
        status_code=status_code,
        error=error[:500],
        duration_ms=duration_ms,
        next_attempt_at=due,
    )
    if not recorded:
        return None
    if due is not None:
        _webhook_next_attempt_create(request_id=request_id, message_id=message_id, attempt=attempt, due=due)
    else:
        state = CrowdRequest.WebhookState.DELIVERED if not error else CrowdRequest.WebhookState.FAILED
        CrowdRequest.objects.filter(pk=request_id).update(webhook_state=state)
    return outcome


def _webhook_next_attempt_create(*, request_id: str, message_id: str, attempt: int, due: datetime) -> None:
    """The row of the attempt after ``attempt``, pending and due at ``due`` (kept when it exists)."""
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(
                request_id=request_id,
                message_id=message_id,
                attempt=attempt + 1,
                url=WebhookDelivery.objects.get(message_id=message_id, attempt=attempt).url,
                outcome=WebhookDelivery.Outcome.PENDING,
                next_attempt_at=due,
            )
    except IntegrityError:
        pass  # the next attempt exists already


def webhooks_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Recover deliveries whose message was lost or whose worker died, from their rows:

    - a ``pending`` attempt overdue by ``WEBHOOK_RESEND_AFTER`` seconds is sent again (at most
      once per that period; the claim makes a duplicate a no-op);
    - a ``sending`` attempt older than ``WEBHOOK_SENDING_TIMEOUT`` seconds lost its worker: it is
      recorded as an error and, unless it was the last, the next attempt is sent at once (that
      timeout was its backoff; the receiver may then see its webhook-id twice, as Standard
      Webhooks allows: at-least-once).
    """
    now = now or timezone.now()
    Outcome = WebhookDelivery.Outcome
    with transaction.atomic():
        overdue = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(
                outcome=Outcome.PENDING,
                next_attempt_at__lt=now - timedelta(seconds=settings.WEBHOOK_RESEND_AFTER),
            )
            .order_by("next_attempt_at")
            .values_list("pk", "request_id", "message_id", "attempt")[: settings.CROWD_SWEEP_BATCH]
        )
        WebhookDelivery.objects.filter(pk__in=[row[0] for row in overdue]).update(next_attempt_at=now)
        for _pk, request_id, message_id, attempt in overdue:
            _delivery_send_on_commit(str(request_id), message_id, attempt)
    lost = 0
    stuck = WebhookDelivery.objects.filter(
        outcome=Outcome.SENDING, started_at__lt=now - timedelta(seconds=settings.WEBHOOK_SENDING_TIMEOUT)
    ).values_list("request_id", "message_id", "attempt", "started_at")
    for request_id, message_id, attempt, started_at in list(stuck[: settings.CROWD_SWEEP_BATCH]):
        outcome = webhook_attempt_record(
            request_id=str(request_id),
            message_id=message_id,
            attempt=attempt,
            error=f"The worker stopped during this attempt (started {started_at:%H:%M:%S}); presumed dead.",
            retry=True,
            due=now,
        )
        lost += outcome is not None
        if outcome == WebhookDelivery.Outcome.RETRYING:
            _delivery_send_on_commit(str(request_id), message_id, attempt + 1)
    return {"resent": len(overdue), "lost": lost}


@transaction.atomic
def webhook_replay(*, crowd_request: CrowdRequest) -> str:
    """Deliver a completed request's webhook again (a new message)."""
    if crowd_request.status != CrowdRequest.Status.COMPLETE or not crowd_request.hook_url:
        raise ServiceError("Only completed requests with a hook_url can be replayed")
    CrowdRequest.objects.filter(pk=crowd_request.pk).update(webhook_state=CrowdRequest.WebhookState.PENDING)
    return webhook_enqueue(crowd_request=crowd_request)


def media_answer_store(*, crowd_request: CrowdRequest, upload: Any) -> str:
    """Store a cruncher's uploaded image/video/audio answer; return its public URL."""
    from pathlib import PurePath

    from django.core.files.storage import default_storage
    from django.urls import reverse

    expected = crowd_request.type  # image, video or audio
    if upload is None:
        raise ServiceError("response: choose a file to upload")
    if upload.size > settings.CROWD_MAX_UPLOAD_BYTES:
        raise ServiceError(f"response: the file is larger than {settings.CROWD_MAX_UPLOAD_BYTES} bytes")
    content_type = (getattr(upload, "content_type", "") or "").split(";")[0]
    if not content_type.startswith(f"{expected}/"):
        raise ServiceError(f"response: an {expected} file is required (got {content_type or 'unknown'})")
    suffix = PurePath(upload.name or "").suffix.lower()[:10]
    name = default_storage.save(f"{media.MEDIA_PREFIX}{crowd_request.pk}/{uuid.uuid4().hex}{suffix}", upload)
    path = reverse("requests:media", kwargs={"name": name.removeprefix(media.MEDIA_PREFIX)})
    return str(settings.CROWD_PUBLIC_URL).rstrip("/") + path
