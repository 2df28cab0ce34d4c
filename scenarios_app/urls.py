from django.urls import path

from scenarios_app import views

app_name = "scenarios"

urlpatterns = [
    path("", views.index, name="index"),
]
