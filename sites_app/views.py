"""Portal pages of the energy sites area: parse with a form, call a selector or service, render."""

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from heatportal import permissions as access
from heatportal.accounts.models import User
from heatportal.oneshot import forget_secret, redirect_with_secret, take_secret
from heatportal.pages import AREAS, allowed_only, confirmation
from sites_app import live, selectors, services
from sites_app.api import history as api_history
from sites_app.api import outputs
from sites_app.forms import AccessGroupForm, ApiKeyForm, SiteForm, history_range
from sites_app.live import DEFAULT_RANGE
from sites_app.models import AccessGroup, Site, SiteApiKey

AREA = next(area for area in AREAS if area.key == "sites")


def can_manage(user: User | AnonymousUser) -> bool:
    """Keys, sites and device tokens are managed by administrators; everyone signed in may look
    (heatportal.permissions)."""
    return access.allowed(user, "sites.manage")


MANAGERS_ONLY = "Only administrators may manage access groups, API keys, sites and device tokens."
manager_required = allowed_only("sites.manage", message=MANAGERS_ONLY)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    form = AccessGroupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        access.require(request.user, "sites.manage", message=MANAGERS_ONLY)
        if form.is_valid():
            try:
                group = services.access_group_create(name=form.cleaned_data["name"])
            except services.ServiceError as error:
                form.add_error("name", error.message)
            else:
                messages.success(request, f"Access group {group.name} created.")
                return redirect("sites:group", group_id=group.pk)
    context = {
        "area": AREA,
        "groups": selectors.access_group_list(with_counts=True),
        "form": form,
        "can_manage": can_manage(request.user),
    }
    return render(request, "sites_app/index.html", context)


def _group_page(request: HttpRequest, group: AccessGroup, *, status: int = 200, **extra: Any) -> HttpResponse:
    now = timezone.now()
    sites = [
        {"site": site, "online": outputs.is_online(site.reported_at, now=now)}
        for site in selectors.site_list(access_group=group)
    ]
    keys = [{"key": key, "active": key.is_active(now)} for key in selectors.api_key_list(access_group=group)]
    context = {
        "group": group,
        "sites": sites,
        "keys": keys,
        "can_manage": can_manage(request.user),
        "key_form": ApiKeyForm(),
        "site_form": SiteForm(),
        **extra,
    }
    return render(request, "sites_app/group.html", context, status=status)


@login_required
def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    """The group; after a key was created, that key's full value, this once (heatportal.oneshot)."""
    group = get_object_or_404(AccessGroup, pk=group_id)
    new_key_id = request.GET.get("new_key", "")
    new_key = (
        selectors.api_key_list(access_group=group).filter(pk=new_key_id).first()
        if new_key_id.isdigit()
        else None
    )
    value = take_secret(request, f"site-key:{new_key.pk}") if new_key else None
    extra: dict[str, Any] = {"new_key": new_key, "new_key_value": value} if value else {}
    return forget_secret(request, _group_page(request, group, **extra))


@require_POST
@manager_required
def key_create(request: HttpRequest, group_id: int) -> HttpResponse:
    """Create a key, then redirect to the group, which shows its full value once (carried
    encrypted, never stored: heatportal.oneshot); a reload creates nothing."""
    group = get_object_or_404(AccessGroup, pk=group_id)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            key, value = services.api_key_create(access_group=group, **form.cleaned_data)
        except services.ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"API key {key.name} created.")
            to = f"{reverse('sites:group', kwargs={'group_id': group.pk})}?new_key={key.pk}"
            return redirect_with_secret(to, subject=f"site-key:{key.pk}", secret=value)
    return _group_page(request, group, key_form=form, status=400)


@require_POST
@manager_required
def key_revoke(request: HttpRequest, group_id: int, key_id: int) -> HttpResponse:
    key = get_object_or_404(SiteApiKey, pk=key_id, access_group_id=group_id)
    asked = confirmation(
        request,
        action=f"Revoke API key {key.name}",
        consequence="Every request that presents this key is refused from then on. A revoked key "
        "cannot be restored: its clients need a new key.",
        cancel_url=reverse("sites:group", kwargs={"group_id": group_id}),
    )
    if asked:
        return asked
    services.api_key_revoke(api_key=key)
    messages.success(request, f"Key {key.name} revoked. Requests that present it are refused from now on.")
    return redirect("sites:group", group_id=group_id)


@require_POST
@manager_required
def site_create(request: HttpRequest, group_id: int) -> HttpResponse:
    group = get_object_or_404(AccessGroup, pk=group_id)
    form = SiteForm(request.POST)
    if form.is_valid():
        try:
            site, token = services.site_create(access_group=group, name=form.cleaned_data["name"])
        except services.ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Site {site.name} created.")
            return _redirect_with_token(site, token)
    return _group_page(request, group, site_form=form, status=400)


def _site_page(request: HttpRequest, site: Site, **extra: Any) -> HttpResponse:
    now = timezone.now()
    batches = list(selectors.schedule_batch_list(site=site))
    timeline = outputs.timeline(selectors.schedule_entry_list(site_id=site.pk, now=now), now=now)
    assets = selectors.asset_list(site=site)
    chosen = history_range(request.GET) or DEFAULT_RANGE
    context = {
        "site": site,
        "online": outputs.is_online(site.reported_at, now=now),
        "assets": assets,
        "live": live.live_state(site_id=site.pk, reported_at=site.reported_at, assets=assets, now=now),
        "offline_after": settings.SITE_OFFLINE_AFTER,
        "ranges": live.RANGES.values(),
        "range": live.RANGES[chosen],
        "timeline": timeline,
        "chart_height": 90 + 46 * len(timeline["schedules"]),
        "batches": batches,
        "token": selectors.device_token_get(site=site),
        "can_manage": can_manage(request.user),
        **extra,
    }
    return render(request, "sites_app/site.html", context)


def _redirect_with_token(site: Site, token: str) -> HttpResponse:
    to = reverse("sites:site", kwargs={"site_id": site.pk})
    return redirect_with_secret(to, subject=f"device-token:{site.pk}", secret=token)


@login_required
def site_detail(request: HttpRequest, site_id: uuid.UUID) -> HttpResponse:
    """The site; after its device token was issued, the token's full value, this once."""
    site = get_object_or_404(Site.objects.select_related("access_group"), pk=site_id)
    token = take_secret(request, f"device-token:{site.pk}")
    extra = {"new_token": token} if token else {}
    return forget_secret(request, _site_page(request, site, **extra))


@require_POST
@manager_required
def token_rotate(request: HttpRequest, site_id: uuid.UUID) -> HttpResponse:
    site = get_object_or_404(Site.objects.select_related("access_group"), pk=site_id)
    asked = confirmation(
        request,
        action=f"Rotate the device token of {site.name}",
        consequence="The gateway's current token stops working at once: the gateway is cut off "
        "until it is given the new token, which is shown once.",
        cancel_url=reverse("sites:site", kwargs={"site_id": site.pk}),
    )
    if asked:
        return asked
    token = services.device_token_rotate(site=site)
    messages.success(request, f"Device token of {site.name} rotated; the old one no longer works.")
    return _redirect_with_token(site, token)


# --- The site page's live state and history (JSON for its scripts, CSV for download) -----------------


def _json_viewer(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A JSON endpoint of the site page, for whoever may see the page (``sites.view``): 401
    when not signed in (a script cannot follow the page's redirect to the sign-in form), 403
    when not allowed, 404 for a site that does not exist; each as ``{"detail": ...}``."""

    @wraps(view)
    def wrapper(request: HttpRequest, site_id: uuid.UUID) -> HttpResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"detail": "Sign in to see this site."}, status=401)
        if not access.allowed(request.user, "sites.view"):
            return JsonResponse({"detail": access.refusal("sites.view")}, status=403)
        site = Site.objects.filter(pk=site_id).first()
        if site is None:
            return JsonResponse({"detail": "No such site."}, status=404)
        return view(request, site)

    return wrapper


@require_GET
@_json_viewer
def site_live(request: HttpRequest, site: Site) -> HttpResponse:
    """The site's current state, polled by the site page (sites_app.live): two queries."""
    now = timezone.now()
    body = live.live_state(
        site_id=site.pk, reported_at=site.reported_at, assets=selectors.asset_list(site=site), now=now
    )
    return JsonResponse(body, headers={"Cache-Control": "no-store"})


def _range_refusal() -> str:
    return f"range must be one of {', '.join(live.RANGES)}."


@require_GET
@_json_viewer
def site_history(request: HttpRequest, site: Site) -> HttpResponse:
    """Measured power and SoC over ``?range=`` (at the range's resolution) and what was scheduled
    over the same time, for the site page's chart: three queries."""
    chosen = live.RANGES.get(history_range(request.GET) or "")
    if chosen is None:
        return JsonResponse({"detail": _range_refusal()}, status=400)
    end = timezone.now()
    start = end - chosen.length
    points = selectors.telemetry_points(site_id=site.pk, start=start, end=end, resolution=chosen.resolution)
    scheduled = selectors.schedule_entry_history(site_id=site.pk, start=start, end=end)
    body = {
        "siteId": str(site.pk),
        "range": chosen.key,
        "from": outputs.format_time(start),
        "to": outputs.format_time(end),
        "resolution": chosen.resolution,
        "points": [{**point, "t": outputs.format_time(point["t"])} for point in points],
        "scheduled": [
            {
                **entry,
                "startAt": outputs.format_time(entry["startAt"]),
                "endAt": outputs.format_time(entry["endAt"]),
            }
            for entry in scheduled
        ],
    }
    return JsonResponse(body, headers={"Cache-Control": "no-store"})


@require_GET
@login_required
def site_history_csv(request: HttpRequest, site_id: uuid.UUID) -> HttpResponseBase:
    """The chart's measured values as CSV, streamed: the public API's CSV of the same range
    (sites_app.api.history)."""
    access.require(request.user, "sites.view")
    site = get_object_or_404(Site, pk=site_id)
    chosen = live.RANGES.get(history_range(request.GET) or "")
    if chosen is None:
        return HttpResponse(_range_refusal(), status=400, content_type="text/plain")
    end = timezone.now()
    start = end - chosen.length
    points = selectors.telemetry_points(site_id=site.pk, start=start, end=end, resolution=chosen.resolution)
    query = api_history.HistoryQuery(start=start, end=end, resolution=chosen.resolution, csv=True)
    return api_history.csv_response(
        site.pk, query, points, site_assets=lambda: selectors.asset_types(site_id=site.pk)
    )
