from django.apps import AppConfig


class SitesAppConfig(AppConfig):
    name = "sites_app"
    verbose_name = "Energy sites"

    def ready(self) -> None:
        from sites_app.api import schema  # noqa: F401 (registers the OpenAPI extensions)
