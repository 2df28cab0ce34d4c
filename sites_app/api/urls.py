"""Document 002's public API, mounted at /api/v1/public/ and /api/v0/public/ (same behaviour).

Paths are written as in the document, without a trailing slash.
"""

from django.urls import path

from sites_app.api import views

urlpatterns = [
    path("sites", views.SiteListView.as_view(), name="site-list"),
    path("sites/<str:site_id>", views.SiteDetailView.as_view(), name="site-detail"),
    path("sites/<str:site_id>/schedules", views.SiteSchedulesView.as_view(), name="site-schedules"),
    path("sites/<str:site_id>/telemetry", views.SiteTelemetryView.as_view(), name="site-telemetry"),
    path("health", views.HealthView.as_view(), name="health"),
]
