"""Reads of crowd_app."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from crowd_app import webhooks
from crowd_app.api.outputs import request_json, request_output
from crowd_app.models import (
    CrowdAccount,
    CrowdAnswer,
    CrowdApiKey,
    CrowdRequest,
    Cruncher,
    TaskLease,
    TaskSkip,
    WebhookDelivery,
)
from heatportal.accounts.models import User
from heatportal.sqlrows import json_value


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


def request_get(*, api_key: CrowdApiKey, request_id: str) -> CrowdRequest | None:
    """The request with its answers and their crunchers (for :func:`request_json`)."""
    return (
        CrowdRequest.objects.filter(_visible_to_key(api_key), pk=request_id)
        .prefetch_related("answers__cruncher")
        .first()
    )


def request_visible(*, api_key: CrowdApiKey, request_id: str) -> bool:
    return CrowdRequest.objects.filter(_visible_to_key(api_key), pk=request_id).exists()


def request_output_get(*, api_key: CrowdApiKey, request_id: str) -> dict[str, Any] | None:
    """The Request object of ``request_id`` if ``api_key`` sees it, in ONE query: the request
    row joined with its answers (one row per answer; the hot path of polling clients).

    SQL written once per database vendor, with table and column names from the models and
    every value a parameter: on this poll, Django's query compiler cost several times the
    query itself (as for the runner's status, scenarios_app.selectors)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _request_rows_sql(connection.vendor),
            [CrowdRequest._meta.pk.get_db_prep_value(uuid.UUID(request_id), connection), api_key.account_id,
             api_key.is_test],
        )  # fmt: skip
        rows = cursor.fetchall()
    if not rows:
        return None
    status, request_type, params, response = rows[0][:4]
    return request_output(
        request_id=str(request_id),
        status=status,
        request_type=request_type,
        params=json_value(params),
        response=json_value(response),
        answers=[
            (cruncher, json_value(answer)) for *_request, cruncher, answer in rows if cruncher is not None
        ],
    )


@functools.cache
def _request_rows_sql(vendor: str) -> str:
    def q(name: str) -> str:
        return connection.ops.quote_name(name)

    request, answer, cruncher = (q(m._meta.db_table) for m in (CrowdRequest, CrowdAnswer, Cruncher))
    return (
        f"SELECT r.status, r.{q('type')}, r.params, r.response, c.cruncher_id, a.response"  # noqa: S608 (names from the models)
        f" FROM {request} r LEFT JOIN {answer} a ON a.request_id = r.id"
        f" LEFT JOIN {cruncher} c ON c.id = a.cruncher_id"
        " WHERE r.id = %s AND r.account_id = %s AND r.staging = %s ORDER BY a.created_at, a.id"
    )


def request_json_get(*, request_id: str) -> dict[str, Any]:
    """The Request object of a request the caller has already been allowed to see."""
    crowd_request = CrowdRequest.objects.prefetch_related("answers__cruncher").get(pk=request_id)
    return request_json(crowd_request)


def request_pending(*, request_id: str) -> bool:
    return CrowdRequest.objects.filter(pk=request_id, status=CrowdRequest.Status.PENDING).exists()


def crowd_account_list(*, user: User) -> QuerySet[CrowdAccount]:
    """The accounts ``user`` may see: their own, or every account for a superuser."""
    if user.is_superuser:
        return CrowdAccount.objects.all()
    return CrowdAccount.objects.filter(owner=user)


def request_list(
    *, user: User, status: str = "", request_type: str = "", staging: str = "", account_id: str = ""
) -> QuerySet[CrowdRequest]:
    """The requests of the accounts ``user`` may see, newest first, with their accounts."""
    accounts = crowd_account_list(user=user)
    queryset = CrowdRequest.objects.filter(account__in=accounts).select_related("account")
    if status:
        queryset = queryset.filter(status=status)
    if request_type:
        queryset = queryset.filter(type=request_type)
    if staging in ("yes", "no"):
        queryset = queryset.filter(staging=staging == "yes")
    if account_id.isdigit():
        queryset = queryset.filter(account_id=int(account_id))
    return queryset.order_by("-created_at")


def webhook_delivery_list(*, crowd_request: CrowdRequest) -> QuerySet[WebhookDelivery]:
    return crowd_request.deliveries.all()


def webhook_secret_get(*, account: CrowdAccount) -> str:
    """The account's signing secret; empty when it has none yet (``crowd_account_create``
    gives every account one; ``services.webhook_secret_ensure`` makes one for the others)."""
    if not account.webhook_secret_encrypted:
        return ""
    return webhooks.secret_decrypt(account.webhook_secret_encrypted)


# --- Crunchers' tasks -------------------------------------------------------------------------


def task_list(*, cruncher: Cruncher, now: datetime, skipped: bool) -> QuerySet[CrowdRequest]:
    """Pending live requests this cruncher may take (not answered by them, not held by somebody
    else; ``exclude_crunchers`` is checked by the caller, it lives in ``params``), oldest first.
    ``skipped=False``: those they have not skipped; ``skipped=True``: only those they have,
    least recently skipped first (so that two skipped tasks alternate)."""
    queryset = (
        CrowdRequest.objects.filter(status=CrowdRequest.Status.PENDING, staging=False)
        .exclude(answers__cruncher=cruncher)
        .exclude(lease__expires_at__gt=now)
    )
    if skipped:
        return queryset.filter(skips__cruncher=cruncher).order_by("skips__skipped_at", "created_at")
    return queryset.exclude(skips__cruncher=cruncher).order_by("created_at")


def cruncher_get(*, user: User) -> Cruncher | None:
    """The signed-in user's cruncher; None until their first task (services.cruncher_for_user)."""
    return Cruncher.objects.filter(user=user).first()


def task_skipped(*, cruncher: Cruncher, crowd_request: CrowdRequest) -> bool:
    return TaskSkip.objects.filter(cruncher=cruncher, request=crowd_request).exists()


def task_lease_get(*, cruncher: Cruncher) -> TaskLease | None:
    """The task this cruncher holds right now (a lease that runs, on a pending request)."""
    return (
        TaskLease.objects.filter(
            cruncher=cruncher, expires_at__gt=timezone.now(), request__status=CrowdRequest.Status.PENDING
        )
        .select_related("request")
        .first()
    )


def answer_list(*, cruncher: Cruncher, limit: int = 20) -> QuerySet[CrowdAnswer]:
    """The cruncher's latest answers, newest first, with their requests."""
    return cruncher.answers.select_related("request").order_by("-created_at")[:limit]
