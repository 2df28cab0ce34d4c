from django.apps import AppConfig


class SitesAppConfig(AppConfig):
    name = "sites_app"
    verbose_name = "Energy sites"
