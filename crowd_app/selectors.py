"""Reads of crowd_app."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from crowd_app.api.outputs import request_json, request_output
from crowd_app.models import CrowdAccount, CrowdApiKey, CrowdRequest, Cruncher, WebhookDelivery
from heatportal.accounts.models import User


def crowd_counts() -> dict[str, int]:
    return {
        "accounts": CrowdAccount.objects.count(),
        "active API keys": CrowdApiKey.objects.filter(CrowdApiKey.active_q()).count(),
        "pending requests": CrowdRequest.objects.filter(status=CrowdRequest.Status.PENDING).count(),
        "crunchers": Cruncher.objects.filter(simulated=False).count(),
    }


def _visible_to_key(api_key: CrowdApiKey) -> Q:
    """A key sees its account's requests; a test key only the staging ones, a live key only the
    live ones."""
    return Q(account_id=api_key.account_id, staging=api_key.is_test)


def request_visible_to_key(*, api_key: CrowdApiKey, request_id: str) -> CrowdRequest | None:
    """The request with its answers and their crunchers (for :func:`request_json`)."""
    return (
        CrowdRequest.objects.filter(_visible_to_key(api_key), pk=request_id)
        .prefetch_related("answers__cruncher")
        .first()
    )


def request_is_visible_to_key(*, api_key: CrowdApiKey, request_id: str) -> bool:
    return CrowdRequest.objects.filter(_visible_to_key(api_key), pk=request_id).exists()


def request_output_get(*, api_key: CrowdApiKey, request_id: str) -> dict[str, Any] | None:
    """The Request object of ``request_id`` if ``api_key`` sees it, in ONE query: the request
    row joined with its answers (one row per answer; the hot path of polling clients)."""
    rows = list(
        CrowdRequest.objects.filter(_visible_to_key(api_key), pk=request_id)
        .order_by("answers__created_at", "answers__id")
        .values_list(
            "status", "type", "params", "response", "answers__cruncher__cruncher_id", "answers__response"
        )
    )
    if not rows:
        return None
    status, request_type, params, response = rows[0][:4]
    return request_output(
        request_id=str(request_id),
        status=status,
        request_type=request_type,
        params=params,
        response=response,
        answers=[(cruncher_id, answer) for *_request, cruncher_id, answer in rows if cruncher_id is not None],
    )


def request_output_reload(*, request_id: str) -> dict[str, Any]:
    """The Request object of a request the caller has already been allowed to see."""
    crowd_request = CrowdRequest.objects.prefetch_related("answers__cruncher").get(pk=request_id)
    return request_json(crowd_request)


def request_is_pending(*, request_id: str) -> bool:
    return CrowdRequest.objects.filter(pk=request_id, status=CrowdRequest.Status.PENDING).exists()


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
