"""Portal pages of the crowd requests area: accounts and keys, webhook secret, requests with
their answers and deliveries, and the crunchers' work pages."""

import json
import mimetypes

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render, resolve_url
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from crowd_app import selectors, services
from crowd_app.forms import AccountForm, ApiKeyForm, RequestFilterForm, TaskAnswerForm
from crowd_app.media import MEDIA_PREFIX
from crowd_app.models import CrowdAccount, CrowdApiKey, Cruncher
from crowd_app.validation import ANNOTATION_KINDS, MEDIA_ANSWER_TYPES
from heatportal import permissions as access
from heatportal.accounts.models import User
from heatportal.files import stream_stored_file
from heatportal.oneshot import forget_secret, redirect_with_secret, take_secret
from heatportal.pages import AREAS, confirmation


class AuthenticatedRequest(HttpRequest):
    """The request of a ``login_required`` view: its user is signed in (django-stubs' pattern)."""

    user: User


AREA = next(area for area in AREAS if area.key == "requests")
REQUESTS_PER_PAGE = 50
# The session entry holding a key created by the last POST of the account page, until the page
# that follows shows it (once). Its value is encrypted: the session store is a table.


def _see_other(to, *args) -> HttpResponseRedirect:
    """Redirect after a POST with 303 See Other: a reload GETs the page, nothing is sent again."""
    response = HttpResponseRedirect(resolve_url(to, *args))
    response.status_code = 303
    return response


def _without_page(request: HttpRequest) -> str:
    """The list's filters as a query string, for the pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
def index(request: AuthenticatedRequest) -> HttpResponse:
    form = RequestFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    requests_ = selectors.request_list(
        user=request.user,
        status=filters.get("status", ""),
        request_type=filters.get("type", ""),
        staging=filters.get("staging", ""),
    )
    page = Paginator(requests_, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "area": AREA,
        "accounts": selectors.crowd_account_list(user=request.user),
        "account_form": AccountForm(),
        "filter_form": form,
        "page": page,
        "filter_query": _without_page(request),
        # The installation-wide figures (every user's accounts, keys, crunchers) are for
        # administrators (heatportal.permissions).
        "counts": selectors.crowd_counts() if access.allowed(request.user, "crowd.overview") else None,
    }
    return render(request, "crowd_app/index.html", context)


@login_required
@require_POST
def account_create(request: AuthenticatedRequest) -> HttpResponse:
    form = AccountForm(request.POST)
    if form.is_valid():
        try:
            account = services.crowd_account_create(owner=request.user, name=form.cleaned_data["name"])
        except services.ServiceError as error:
            messages.error(request, error.message)
            return _see_other("requests:index")
        return _see_other("requests:account", account.pk)
    messages.error(request, "Give the account a name.")
    return _see_other("requests:index")


def _account_or_404(request: AuthenticatedRequest, account_id: int) -> CrowdAccount:
    return get_object_or_404(selectors.crowd_account_list(user=request.user), pk=account_id)


@never_cache  # the page may show a new key or the webhook secret: no cache may keep it
@login_required
def account_detail(request: AuthenticatedRequest, account_id: int) -> HttpResponse:
    """GET shows the account; POST creates a key and redirects here, the key's value carried
    encrypted (heatportal.oneshot) and shown once: a reload neither creates another key nor
    shows it again."""
    account = _account_or_404(request, account_id)
    form = ApiKeyForm()
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            new_key, new_value = services.crowd_api_key_create(
                account=account, test=form.cleaned_data["test"], name=form.cleaned_data["name"]
            )
            to = f"{reverse('requests:account', args=[account.pk])}?created={new_key.pk}"
            return redirect_with_secret(to, subject=f"crowd-key:{new_key.pk}", secret=new_value)
    created = None
    created_id = request.GET.get("created", "")
    key = account.api_keys.filter(pk=created_id).first() if created_id.isdigit() else None
    value = take_secret(request, f"crowd-key:{key.pk}") if key else None
    if value:
        created = {"key": key, "value": value}
    context = {
        "account": account,
        "keys": account.api_keys.all(),
        "form": form,
        "created": created,
        "webhook_secret": selectors.webhook_secret_get(account=account),
    }
    return forget_secret(request, render(request, "crowd_app/account.html", context))


@login_required
@require_POST
def key_revoke(request: AuthenticatedRequest, account_id: int, key_id: int) -> HttpResponse:
    account = _account_or_404(request, account_id)
    api_key = get_object_or_404(CrowdApiKey, pk=key_id, account=account)
    asked = confirmation(
        request,
        action=f"Revoke key {api_key.masked}",
        consequence="Every request that presents this key is refused from then on; a revoked key "
        "cannot be restored.",
        cancel_url=reverse("requests:account", args=[account.pk]),
    )
    if asked:
        return asked
    services.crowd_api_key_revoke(api_key=api_key)
    messages.success(request, f"Key {api_key.masked} revoked.")
    return _see_other("requests:account", account.pk)


@login_required
@require_POST
def secret_rotate(request: AuthenticatedRequest, account_id: int) -> HttpResponse:
    account = _account_or_404(request, account_id)
    asked = confirmation(
        request,
        action=f"Rotate the webhook secret of {account.name}",
        consequence="Webhooks are signed with the new secret from then on: receivers that verify "
        "signatures with the old one reject them until they are given the new one.",
        cancel_url=reverse("requests:account", args=[account.pk]),
    )
    if asked:
        return asked
    services.webhook_secret_rotate(account=account)
    messages.success(request, "Webhook secret rotated; receivers must use the new one from now on.")
    return _see_other("requests:account", account.pk)


@login_required
def request_detail(request: AuthenticatedRequest, request_id: str) -> HttpResponse:
    crowd_request = get_object_or_404(
        selectors.request_list(user=request.user).prefetch_related("answers__cruncher"), pk=request_id
    )
    context = {
        "crowd_request": crowd_request,
        "as_json": json.dumps(selectors.request_json(crowd_request), indent=2),
        "answers": crowd_request.answers.all(),
        "deliveries": selectors.webhook_delivery_list(crowd_request=crowd_request),
    }
    return render(request, "crowd_app/request.html", context)


@login_required
@require_POST
def webhook_replay(request: AuthenticatedRequest, request_id: str) -> HttpResponse:
    crowd_request = get_object_or_404(selectors.request_list(user=request.user), pk=request_id)
    try:
        message_id = services.webhook_replay(crowd_request=crowd_request)
        messages.success(request, f"Webhook queued again ({message_id}).")
    except services.ServiceError as error:
        messages.error(request, error.message)
    return _see_other("requests:request", crowd_request.pk)


# --- Crunchers' work pages --------------------------------------------------------------------


@login_required
def work(request: AuthenticatedRequest) -> HttpResponse:
    if request.method == "POST":
        return _take_next_task(request)
    # A GET writes nothing: the cruncher row comes with the first task taken.
    cruncher = selectors.cruncher_get(user=request.user)
    context = {
        "cruncher": cruncher,
        "lease": cruncher and selectors.task_lease_get(cruncher=cruncher),
        "answered": selectors.answer_list(cruncher=cruncher) if cruncher else [],
    }
    return render(request, "crowd_app/work.html", context)


def _take_next_task(request: AuthenticatedRequest) -> HttpResponse:
    cruncher = services.cruncher_for_user(user=request.user)
    task = services.task_take_next(cruncher=cruncher)
    if task is None:
        messages.info(request, "No task is waiting for you right now.")
        return _see_other("requests:work")
    if selectors.task_skipped(cruncher=cruncher, crowd_request=task):
        messages.info(request, "You skipped this task before; nothing else is waiting.")
    return _see_other("requests:task", task.pk)


def _submit_answer(form: TaskAnswerForm, cruncher: Cruncher, upload: UploadedFile | None) -> bool:
    """Record the valid ``form``'s answer; False (the errors added to the form) when the
    services refuse it."""
    crowd_request = form.crowd_request
    try:
        if crowd_request.type in MEDIA_ANSWER_TYPES:
            response = services.media_answer_store(crowd_request=crowd_request, upload=upload)
        else:
            response = form.cleaned_data["response"]
        services.answer_submit(crowd_request=crowd_request, cruncher=cruncher, response=response)
    except services.ServiceError as error:
        form.add_service_error(error.message)
        return False
    return True


@login_required
def task(request: AuthenticatedRequest, request_id: str) -> HttpResponse:
    cruncher = selectors.cruncher_get(user=request.user)
    lease = cruncher.lease if cruncher is not None and hasattr(cruncher, "lease") else None
    if cruncher is None or lease is None or str(lease.request_id) != str(request_id):
        messages.error(request, "This task is not yours right now; take the next one.")
        return _see_other("requests:work")
    crowd_request = lease.request
    form = TaskAnswerForm(crowd_request=crowd_request)
    if request.method == "POST":
        if "skip" in request.POST:
            services.task_skip(cruncher=cruncher)
            messages.info(
                request, "Task handed back. It comes back to you only when nothing else is waiting."
            )
            return _see_other("requests:work")
        form = TaskAnswerForm(request.POST, request.FILES, crowd_request=crowd_request)
        if form.is_valid() and _submit_answer(form, cruncher, request.FILES.get("media")):
            messages.success(request, "Thank you, your answer is recorded.")
            return _see_other("requests:work")
    params = crowd_request.params
    inner = ANNOTATION_KINDS.get(crowd_request.type)
    context = {
        "crowd_request": crowd_request,
        "params": params,
        "form": form,
        "lease": lease,
        "is_annotations": crowd_request.type in ANNOTATION_KINDS,
        "per_annotation_type": inner or "",
        "is_media": crowd_request.type in MEDIA_ANSWER_TYPES,
        "single_choice": params.get("max_answers") == 1,
        "task_config": {
            "type": crowd_request.type,
            "attachments_type": params.get("attachments_type", "text"),
            "annotations_type": params.get("annotations_type", "point"),
            "min_annotations": params.get("min_annotations", 1),
            "max_annotations": params.get("max_annotations"),
            "per_annotation_type": inner or "",
            "per_annotation": params.get("per_annotation"),
            "attachment_count": len(params.get("attachments", [])),
        },
    }
    return render(request, "crowd_app/task.html", context)


async def media(request: HttpRequest, name: str) -> StreamingHttpResponse:
    """Uploaded media answers, by their unguessable name (the URL given to the client)."""
    if ".." in name or name.startswith("/"):
        raise Http404
    path = MEDIA_PREFIX + name
    if not await sync_to_async(default_storage.exists)(path):
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return StreamingHttpResponse(stream_stored_file(path, 1024 * 1024), content_type=content_type)
