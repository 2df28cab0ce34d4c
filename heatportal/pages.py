"""Helpers shared by the portal pages of every app."""

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


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
