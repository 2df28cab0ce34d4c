"""Celery tasks of crowd_app: entry points that take ids and call one service each.

The services re-read the rows and check their state first, so running a task twice is harmless.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from crowd_app import services
from crowd_app.webhooks import DeliveryRetry


@shared_task
def staging_answer(request_id: str) -> None:
    """Answer a staging request with the simulated crunchers until it completes."""
    services.staging_request_answer(request_id=request_id)


# Retries by Celery: the attempt is recorded (and the next one's row made pending) before
# DeliveryRetry is raised; the retried message is attempt + request.retries. Jitter is off in
# the test workers only (WEBHOOK_RETRY_JITTER), so that their backoff has a lower bound.
@shared_task(
    bind=True,
    autoretry_for=(DeliveryRetry,),
    retry_backoff=settings.WEBHOOK_BACKOFF_BASE,
    retry_backoff_max=int(settings.WEBHOOK_BACKOFF_MAX),
    retry_jitter=settings.WEBHOOK_RETRY_JITTER,
    max_retries=settings.WEBHOOK_MAX_ATTEMPTS - 1,
)
def deliver_webhook(self, request_id: str, message_id: str, attempt: int) -> None:
    """Make one attempt of a webhook delivery (``services.webhook_attempt_deliver``)."""
    attempt += self.request.retries
    services.webhook_attempt_deliver(request_id=request_id, message_id=message_id, attempt=attempt)


@shared_task
def staging_sweep() -> int:
    """Re-send the staging robots' message of overdue staging requests (Celery beat)."""
    return services.staging_sweep()


@shared_task
def webhooks_sweep() -> dict[str, int]:
    """Re-send lost webhook deliveries and retry those whose worker died (Celery beat)."""
    return services.webhooks_sweep()


@shared_task
def expire_leases() -> int:
    """Drop leases past their expiry (Celery beat)."""
    return services.task_leases_expire()
