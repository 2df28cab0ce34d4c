from django.urls import path

from sites_app import views

app_name = "sites"

urlpatterns = [
    path("", views.index, name="index"),
    path("groups/<int:group_id>/", views.group_detail, name="group"),
    path("groups/<int:group_id>/keys/", views.key_create, name="key-create"),
    path("groups/<int:group_id>/keys/<int:key_id>/revoke/", views.key_revoke, name="key-revoke"),
    path("groups/<int:group_id>/sites/", views.site_create, name="site-create"),
    path("s/<uuid:site_id>/", views.site_detail, name="site"),
    path("s/<uuid:site_id>/live.json", views.site_live, name="site-live"),
    path("s/<uuid:site_id>/history.json", views.site_history, name="site-history"),
    path("s/<uuid:site_id>/history.csv", views.site_history_csv, name="site-history-csv"),
    path("s/<uuid:site_id>/device-token/", views.token_rotate, name="token-rotate"),
]
