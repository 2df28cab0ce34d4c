from pathlib import Path

from django.apps import AppConfig, apps
from django.conf import settings
from django.contrib.admin import apps as admin_apps
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save, pre_save


class HeatportalConfig(AppConfig):
    name = "heatportal"
    verbose_name = "HEAT Portal"

    def ready(self):
        from heatportal.api.input import check_columns_before_save

        # Every model of the project's own apps has its values checked against its columns
        # before a save (heatportal/api/input.py); installed packages' models are left alone.
        for app_config in apps.get_app_configs():
            if _is_project_app(app_config):
                for model in app_config.get_models():
                    pre_save.connect(
                        check_columns_before_save,
                        sender=model,
                        dispatch_uid=f"check-columns-{model._meta.label}",
                    )
        # A saved or deleted credential or user (revoked, expired, deactivated) is no longer
        # answered from this process's cache of verified credentials (heatportal/credentials.py).
        from heatportal.credentials import Credential, credential_cache_clear

        for model in apps.get_models():
            if issubclass(model, Credential) or model is get_user_model():
                for signal in (post_save, post_delete):
                    uid = f"credential-cache-{model._meta.label}"
                    signal.connect(credential_cache_clear, sender=model, dispatch_uid=uid)
        # The history of changes: what is tracked, in one list (heatportal/audit.py).
        from heatportal import audit

        audit.register()


class HeatAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the portal's admin site as ``admin.site``."""

    default = False  # named in INSTALLED_APPS by its path
    default_site = "heatportal.admin.HeatAdminSite"


def _is_project_app(app_config: AppConfig) -> bool:
    path = Path(app_config.path).resolve()
    return path.is_relative_to(settings.BASE_DIR) and "site-packages" not in path.parts
