from django.urls import path

from sessions_app.api import views

urlpatterns = [
    path("health", views.HealthView.as_view(), name="v2-health"),
    path("health_check", views.HealthView.as_view(), name="v2-health-check"),
    path("session_templates", views.SessionTemplatesView.as_view(), name="v2-session-templates"),
    path("user_data", views.UserDataView.as_view(), name="v2-user-data"),
    path("projects", views.ProjectsView.as_view(), name="v2-projects"),
    path("projects/<int:project_id>", views.ProjectDetailView.as_view(), name="v2-project"),
    path("projects/<int:project_id>/sessions", views.SessionCreateView.as_view(), name="v2-project-sessions"),
    path(
        "projects/<int:project_id>/sessions/shared",
        views.SharedSessionView.as_view(),
        name="v2-shared-session",
    ),
    path("session", views.SessionCreateView.as_view(), name="v2-session-create"),
    path("sessions", views.SessionCreateView.as_view(), name="v2-sessions-create"),
    path("sessions/<uuid:session_id>", views.SessionDetailView.as_view(), name="v2-session"),
    path("sessions/<uuid:session_id>/close", views.SessionCloseView.as_view(), name="v2-session-close"),
    path(
        "node_instances/<int:node_instance_id>/outputs",
        views.NodeOutputsView.as_view(),
        name="v2-node-outputs",
    ),
    path("node_outputs/<int:output_id>/data", views.NodeOutputDataView.as_view(), name="v2-node-output-data"),
    path("config/all", views.ConfigAllView.as_view(), name="v2-config-all"),
    path("config", views.ConfigView.as_view(), name="v2-config"),
    path("config/<str:name>", views.ConfigDetailView.as_view(), name="v2-config-detail"),
    path(
        "<uuid:session_id>/scenario_instances",
        views.ScenarioInstancesView.as_view(),
        name="v2-scenario-instances",
    ),
]
