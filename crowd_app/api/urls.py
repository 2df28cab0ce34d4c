from django.urls import re_path

from crowd_app.api import views

urlpatterns = [
    re_path(r"^requests/(?P<segment>[^/]+)/?$", views.requests_endpoint, name="crowd-requests"),
    re_path(r"^tasks/abort/(?P<segment>[^/]+)/?$", views.abort_endpoint, name="crowd-abort"),
]
