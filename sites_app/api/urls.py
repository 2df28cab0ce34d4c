"""Document 002's public API, mounted at /api/v1/public/ and /api/v0/public/ (same behaviour).

Paths are written as in the document, without a trailing slash; one is tolerated.
"""

from django.urls import re_path

from sites_app.api import views

urlpatterns = [
    re_path(r"^sites/?$", views.SiteListView.as_view(), name="site-list"),
    re_path(r"^sites/(?P<site_id>[^/]+)/?$", views.SiteDetailView.as_view(), name="site-detail"),
    re_path(
        r"^sites/(?P<site_id>[^/]+)/schedules/?$", views.SiteSchedulesView.as_view(), name="site-schedules"
    ),
    re_path(r"^health/?$", views.HealthView.as_view(), name="health"),
]
