from django.urls import path

from crowd_app import views

app_name = "requests"

urlpatterns = [
    path("", views.index, name="index"),
    path("accounts/new", views.account_create, name="account-create"),
    path("accounts/<int:account_id>/", views.account_detail, name="account"),
    path("accounts/<int:account_id>/keys/<int:key_id>/revoke", views.key_revoke, name="key-revoke"),
    path("accounts/<int:account_id>/webhook-secret/rotate", views.secret_rotate, name="secret-rotate"),
    path("r/<uuid:request_id>/", views.request_detail, name="request"),
    path("r/<uuid:request_id>/replay", views.webhook_replay, name="replay"),
    path("work/", views.work, name="work"),
    path("work/<uuid:request_id>/", views.task, name="task"),
    path("files/<path:name>", views.media, name="media"),
]
