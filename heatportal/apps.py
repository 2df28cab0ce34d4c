from django.apps import AppConfig


class HeatportalConfig(AppConfig):
    name = "heatportal"
    verbose_name = "HEAT Portal"
