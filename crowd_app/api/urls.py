"""The crowd API's routes: one per request type (each its own operation in the schema), then
requests by id. A trailing slash is accepted, as it always was (``(?:/)?``, which the schema
leaves out of the paths)."""

from django.urls import re_path

from crowd_app.api import views

urlpatterns = [
    *(
        re_path(rf"^requests/{request_type}(?:/)?$", view.as_view(), name="crowd-requests")
        for request_type, view in views.CREATE_VIEWS.items()
    ),
    re_path(r"^requests/(?P<id>[^/]+)(?:/)?$", views.RequestView.as_view(), name="crowd-requests"),
    re_path(r"^tasks/abort/(?P<id>[^/]+)(?:/)?$", views.AbortView.as_view(), name="crowd-abort"),
]
