"""Helpers shared by the portal pages of every app."""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from heatportal import permissions


@dataclass(frozen=True)
class Area:
    """One of the portal's four areas, as the navigation and its landing page show it."""

    key: str
    title: str
    summary: str
    api_prefix: str


AREAS = (
    Area(
        "sessions",
        "Sessions",
        "Projects, session templates, sessions and their node outputs (HEAT v2 API).",
        "/api/v2/",
    ),
    Area(
        "sites",
        "Energy sites",
        "Access groups, their sites, API keys and schedule commands.",
        "/api/v1/public/",
    ),
    Area(
        "scenarios", "Scenarios", "Datasets, algorithms with their parameters, and scenario runs.", "/api/v1/"
    ),
    Area(
        "requests", "Crowd requests", "Human-answered requests, their answers and webhook deliveries.", "/v1/"
    ),
)


def area_landing(request: HttpRequest, key: str, counts: dict[str, int]) -> HttpResponse:
    """The landing page of an area: what it holds and where its API lives."""
    area = next(area for area in AREAS if area.key == key)
    return render(request, "area.html", {"area": area, "counts": counts})


def confirmation(
    request: HttpRequest, *, action: str, consequence: str, cancel_url: str
) -> HttpResponse | None:
    """None when the POST confirms a destructive action (``confirm=yes``); otherwise the page
    that asks, whose form posts the same fields again with ``confirm=yes``. The action's button
    is a plain form POST, so this works without JavaScript; nothing is changed until then.

    ``action`` names the button ("Delete session 'x'"), ``consequence`` says what will happen
    and what cannot be undone."""
    if request.POST.get("confirm") == "yes":
        return None
    fields = [
        (name, value)
        for name, value in request.POST.items()
        if name not in ("confirm", "csrfmiddlewaretoken")
    ]
    context = {
        "action": action,
        "consequence": consequence,
        "cancel_url": cancel_url,
        "fields": fields,
        "post_url": request.get_full_path(),
    }
    return render(request, "confirm.html", context)


def allowed_only(action: str, *, message: str):
    """A page view for the signed-in users that heatportal.permissions lets do ``action``;
    the others get the 403 page (templates/403.html) saying ``message``."""

    def decorate(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            permissions.require(request.user, action, message=message)
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorate
