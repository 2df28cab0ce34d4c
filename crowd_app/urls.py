from django.urls import path

from crowd_app import views

app_name = "requests"

urlpatterns = [
    path("", views.index, name="index"),
]
