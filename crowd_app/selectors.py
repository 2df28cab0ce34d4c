"""Reads of crowd_app."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from crowd_app.models import CrowdAccount, CrowdApiKey, CrowdRequest, Cruncher, WebhookDelivery
from heatportal.accounts.models import User


def crowd_counts() -> dict[str, int]:
    return {
        "accounts": CrowdAccount.objects.count(),
        "active API keys": CrowdApiKey.objects.filter(CrowdApiKey.active_q()).count(),
        "pending requests": CrowdRequest.objects.filter(status=CrowdRequest.Status.PENDING).count(),
        "crunchers": Cruncher.objects.filter(simulated=False).count(),
    }


def request_visible_to_key(*, api_key: CrowdApiKey, request_id: str) -> CrowdRequest | None:
    """A key sees its account's requests; a test key only the staging ones, a live key only the
    live ones."""
    return (
        CrowdRequest.objects.filter(pk=request_id, account_id=api_key.account_id, staging=api_key.is_test)
        .prefetch_related("answers__cruncher")
        .first()
    )


def request_json(crowd_request: CrowdRequest) -> dict[str, Any]:
    """The Request object of document 004: id, status, response when complete, the type and
    every parameter as stored (defaults filled in)."""
    body: dict[str, Any] = {"id": str(crowd_request.pk), "status": crowd_request.status}
    if crowd_request.status == CrowdRequest.Status.COMPLETE:
        answers = list(crowd_request.answers.all())
        body["response"] = crowd_request.response
        body["raw_responses"] = {answer.cruncher.cruncher_id: answer.response for answer in answers}
        body["crunchers"] = [answer.cruncher.cruncher_id for answer in answers]
    body["type"] = crowd_request.type
    body.update(crowd_request.params)
    return body


def accounts_of(*, user: User) -> QuerySet[CrowdAccount]:
    if user.is_superuser:
        return CrowdAccount.objects.all()
    return CrowdAccount.objects.filter(owner=user)


def requests_for_portal(
    *, user: User, status: str = "", request_type: str = "", staging: str = "", account_id: str = ""
) -> QuerySet[CrowdRequest]:
    queryset = CrowdRequest.objects.filter(account__in=accounts_of(user=user)).select_related("account")
    if status:
        queryset = queryset.filter(status=status)
    if request_type:
        queryset = queryset.filter(type=request_type)
    if staging in ("yes", "no"):
        queryset = queryset.filter(staging=staging == "yes")
    if account_id.isdigit():
        queryset = queryset.filter(account_id=int(account_id))
    return queryset.order_by("-created_at")


def deliveries_of(*, crowd_request: CrowdRequest) -> QuerySet[WebhookDelivery]:
    return crowd_request.deliveries.all()
