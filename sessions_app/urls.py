from django.urls import path

from sessions_app import views

app_name = "sessions"

urlpatterns = [
    path("", views.index, name="index"),
    path("projects/<int:project_id>/", views.project_detail, name="project"),
    path("s/<uuid:session_id>/", views.session_detail, name="session"),
    path("outputs/<int:output_id>/download", views.output_download, name="output-download"),
    path("templates/", views.templates, name="templates"),
    path("config/", views.config_list, name="config"),
    path("config/new/", views.config_create, name="config-create"),
    path("config/<int:config_id>/edit/", views.config_edit, name="config-edit"),
    path("config/<int:config_id>/reveal/", views.config_reveal, name="config-reveal"),
    path("config/<int:config_id>/delete/", views.config_delete, name="config-delete"),
]
