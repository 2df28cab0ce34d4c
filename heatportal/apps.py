from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class HeatportalConfig(AppConfig):
    name = "heatportal"
    verbose_name = "HEAT Portal"


class HeatAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the portal's admin site as ``admin.site``."""

    default = False  # named in INSTALLED_APPS by its path
    default_site = "heatportal.admin.HeatAdminSite"
