from django.apps import AppConfig


class SitesAppConfig(AppConfig):
    name = "sites_app"
    verbose_name = "Energy sites"

    def ready(self) -> None:
        from heatportal import energy
        from sites_app.api import schema  # noqa: F401 (registers the OpenAPI extensions)
        from sites_app.energy import SitesEnergy

        # The scenario runner reads sites and applies dispatches through heatportal.energy.
        energy.register(SitesEnergy())
