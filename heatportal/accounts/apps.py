from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "heatportal.accounts"
    label = "accounts"
    verbose_name = "Users and HEAT Auth"

    def ready(self):
        from heatportal.accounts import schema  # noqa: F401 (registers the OpenAPI extension)
