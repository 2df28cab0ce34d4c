"""Celery tasks of crowd_app: the staging robots, webhook deliveries and the sweeps.

Tasks take ids, re-read their rows and check state first, so running one twice is harmless.
"""

from __future__ import annotations

import json
import logging
import time

import httpx
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from crowd_app import services, webhooks
from crowd_app.api.outputs import request_json
from crowd_app.models import CrowdRequest, TaskLease
from crowd_app.services import (
    ServiceError,
    answer_submit,
    cruncher_simulated,
    webhook_attempt_claim,
    webhook_attempt_record,
    webhook_secret_get,
)
from crowd_app.staging import simulated_answers

logger = logging.getLogger(__name__)


@shared_task
def staging_answer(request_id: str) -> None:
    """Answer a staging request with the simulated crunchers until it completes."""
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


# One HTTP client per worker process: deliveries to the same receiver reuse connections.
_client: httpx.Client | None = None


def _http() -> httpx.Client:
    global _client
    if _client is None:
        _client = httpx.Client(timeout=settings.WEBHOOK_TIMEOUT, follow_redirects=False)
    return _client


@shared_task
def deliver_webhook(request_id: str, message_id: str, attempt: int) -> None:
    """POST the completed request to its hook_url, signed (Standard Webhooks); retry on
    timeouts, connection errors, 5xx, 408 and 429; record every attempt. The attempt's row
    decides who sends it (``webhook_attempt_claim``), so a message delivered twice, or sent
    again by the sweep, is sent to the receiver once."""
    crowd_request = webhook_attempt_claim(request_id=request_id, message_id=message_id, attempt=attempt)
    if crowd_request is None:
        return
    url = crowd_request.hook_url
    body = json.dumps(request_json(crowd_request)).encode()
    started = time.monotonic()
    status_code, error, retry = None, "", False
    try:
        target = webhooks.resolve_safe(url)
        timestamp = int(time.time())
        secret = webhook_secret_get(account=crowd_request.account)
        headers = {
            "content-type": "application/json",
            "user-agent": "HEAT-Portal-Webhooks/1.0",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": webhooks.sign(
                secret=secret, message_id=message_id, timestamp=timestamp, body=body
            ),
        }
        if target.host_header:
            headers["host"] = target.host_header
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else None
        reply = _http().post(target.url, content=body, headers=headers, extensions=extensions)
        status_code = reply.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
            retry = status_code >= 500 or status_code in (408, 429)
    except webhooks.UnsafeURL as refused:
        error = str(refused)
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"
        retry = True
    webhook_attempt_record(
        request_id=request_id,
        message_id=message_id,
        attempt=attempt,
        status_code=status_code,
        error=error,
        retry=retry,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


@shared_task
def staging_sweep() -> int:
    """Re-send the staging robots' message of overdue staging requests (Celery beat)."""
    return services.staging_sweep()


@shared_task
def webhooks_sweep() -> dict:
    """Re-send lost webhook deliveries and retry those whose worker died (Celery beat)."""
    return services.webhooks_sweep()


@shared_task
def expire_leases() -> int:
    """Drop leases past their expiry (taking a task ignores them anyway; this keeps pages tidy)."""
    deleted, _ = TaskLease.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
