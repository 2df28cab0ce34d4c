"""Document 003's routes, mounted at settings.SCENARIOS_API_PREFIX (default ``api/v1/``)."""

from django.urls import path

from scenarios_app.api import views

S = "sessions/<str:sid>"
SC = S + "/scenarios/<str:scenario_id>"

# The polled endpoints first: the resolver tries patterns in order.
urlpatterns = [
    path(SC + "/status", views.ScenarioStatusView.as_view(), name="scenarios-scenario-status"),
    path("health", views.HealthView.as_view(), name="scenarios-health"),
    path("sessions", views.SessionsView.as_view(), name="scenarios-sessions"),
    path(S, views.SessionDetailView.as_view(), name="scenarios-session"),
    path(S + "/copy", views.SessionCopyView.as_view(), name="scenarios-session-copy"),
    path(S + "/algorithms", views.AlgorithmsView.as_view(), name="scenarios-algorithms"),
    path(
        S + "/algorithms/<str:name>/parameters",
        views.AlgorithmParametersView.as_view(),
        name="scenarios-algorithm-parameters",
    ),
    path(S + "/kpis", views.KpisView.as_view(), name="scenarios-kpis"),
    path(S + "/scenarios", views.ScenariosView.as_view(), name="scenarios-scenarios"),
    path(SC, views.ScenarioDetailView.as_view(), name="scenarios-scenario"),
    path(SC + "/run", views.ScenarioRunView.as_view(), name="scenarios-scenario-run"),
    path(SC + "/reset", views.ScenarioResetView.as_view(), name="scenarios-scenario-reset"),
    path(SC + "/apply", views.ScenarioApplyView.as_view(), name="scenarios-scenario-apply"),
    path(S + "/processing", views.ProcessingView.as_view(), name="scenarios-processing"),
    path(S + "/data", views.DataView.as_view(), name="scenarios-data"),
    path(S + "/data/from-json", views.DataFromJsonView.as_view(), name="scenarios-data-from-json"),
    path(S + "/data/from-site", views.DataFromSiteView.as_view(), name="scenarios-data-from-site"),
    path(S + "/data/<str:key>", views.DataDetailView.as_view(), name="scenarios-dataset"),
    path(
        S + "/data/<str:key>/parameters",
        views.DataParametersView.as_view(),
        name="scenarios-dataset-parameters",
    ),
    path(S + "/data/<str:key>/derive", views.DataDeriveView.as_view(), name="scenarios-dataset-derive"),
    path(S + "/etl", views.EtlView.as_view(), name="scenarios-etl"),
]
