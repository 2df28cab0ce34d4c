"""The gateway API at /api/v1/gateway/: what the energy gateway on each site calls."""

from django.urls import re_path

from sites_app.api import views

app_name = "sites-gateway"

urlpatterns = [
    re_path(r"^telemetry/?$", views.GatewayTelemetryView.as_view(), name="telemetry"),
    re_path(r"^schedules/?$", views.GatewaySchedulesView.as_view(), name="schedules"),
    re_path(r"^site/?$", views.GatewaySiteView.as_view(), name="site"),
]
