from django.apps import AppConfig


class CrowdAppConfig(AppConfig):
    name = "crowd_app"
    verbose_name = "Crowd requests"
