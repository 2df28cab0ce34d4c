from django.urls import path

from scenarios_app import views

app_name = "scenarios"

urlpatterns = [
    path("", views.index, name="index"),
    path("from-site/", views.dataset_from_site, name="from-site"),
    path("s/<uuid:session_id>/", views.session_detail, name="session"),
    path("s/<uuid:session_id>/<str:action>/", views.session_action, name="session-action"),
    path("s/<uuid:session_id>/data/<str:key>/", views.dataset_detail, name="dataset"),
    path("s/<uuid:session_id>/scenarios/new/", views.scenario_create, name="scenario-create"),
    path("s/<uuid:session_id>/scenarios/<uuid:scenario_id>/", views.scenario_detail, name="scenario"),
    path(
        "s/<uuid:session_id>/scenarios/<uuid:scenario_id>/apply/", views.scenario_apply, name="scenario-apply"
    ),
    path(
        "s/<uuid:session_id>/scenarios/<uuid:scenario_id>/<str:action>/",
        views.scenario_action,
        name="scenario-action",
    ),
]
