from django.urls import path

from bench.floor import views

urlpatterns = [
    path("sync", views.sync_view),
    path("async", views.async_view),
    path("query", views.query_view),
    path("health", views.async_view),
]
