from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "heatportal.accounts"
    label = "accounts"
    verbose_name = "Users and HEAT Auth"
