from django.urls import path

from sites_app import views

app_name = "sites"

urlpatterns = [
    path("", views.index, name="index"),
]
