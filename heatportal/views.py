from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.cache import patch_response_headers
from django.views.decorators.cache import never_cache
from django.views.defaults import bad_request, page_not_found, server_error

from heatportal.api.errors import GENERIC_MESSAGES, ApiError, error_response, family_for_path
from heatportal.forms import ChangeFilterForm
from heatportal.health import aportal_health, portal_health
from heatportal.permissions import require
from heatportal.selectors import change_list, change_row_list


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard.html", {"health": portal_health()})


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links (the admin links none). A temporary
    redirect, cached for a day: the static file's URL may change with the deployment."""
    response = HttpResponseRedirect(static("favicon.svg"))
    patch_response_headers(response, cache_timeout=86400)
    return response


CHANGES_PER_PAGE = 50


@login_required
def changes(request: HttpRequest) -> HttpResponse:
    """The history of changes of every tracked object (heatportal/audit.py), for administrators."""
    require(request.user, "changes.view")  # else the portal's 403 page (templates/403.html)
    form = ChangeFilterForm(request.GET or None)
    filters = dict(form.cleaned_data) if form.is_valid() else {}
    filters["text"] = filters.pop("q", "")
    page = Paginator(change_list(**filters), CHANGES_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": change_row_list(list(page.object_list)),
        "filter_query": query.urlencode(),
    }
    return render(request, "changes.html", context)


@never_cache
async def health(request: HttpRequest) -> JsonResponse:
    """Live health for the dashboard and for operators' probes; 503 when anything is down."""
    report = await aportal_health()
    user = await request.auser()
    if not user.is_authenticated:
        report["workers"]["names"] = []  # worker host names are for signed-in users only
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Requests Django refuses before any view (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too
    many fields, a suspicious header): the API family's error body; 413 for a body too big."""
    family = family_for_path(request.path)
    if family is None:
        return bad_request(request, exception)
    status = 413 if isinstance(exception, RequestDataTooBig) else 400
    return error_response(family, ApiError(status=status, message=GENERIC_MESSAGES[status]))


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    family = family_for_path(request.path)
    if family is None:
        return page_not_found(request, exception)
    return error_response(family, ApiError(status=404, message=GENERIC_MESSAGES[404]))


def handler500(request: HttpRequest) -> HttpResponse:
    family = family_for_path(request.path)
    if family is None:
        return server_error(request)
    return error_response(family, ApiError(status=500, message=GENERIC_MESSAGES[500]))
