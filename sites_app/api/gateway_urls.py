"""The gateway API at /api/v1/gateway/: what the energy gateway on each site calls."""

from django.urls import path

from sites_app.api import views

app_name = "sites-gateway"

urlpatterns = [
    path("telemetry", views.GatewayTelemetryView.as_view(), name="telemetry"),
    path("schedules", views.GatewaySchedulesView.as_view(), name="schedules"),
    path("schedules/ack", views.GatewayScheduleAckView.as_view(), name="schedules-ack"),
    path("site", views.GatewaySiteView.as_view(), name="site"),
]
