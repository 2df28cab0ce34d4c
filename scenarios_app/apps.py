from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_default_session(sender, using, **kwargs) -> None:
    """A fresh installation has ``main`` with ``Master data`` (CONTRACT §4) as soon as it is
    migrated (and again after a test flush), so that no GET has to create it."""
    from django.db import DEFAULT_DB_ALIAS, connections

    from scenarios_app import services
    from scenarios_app.models import RunnerSession

    if using != DEFAULT_DB_ALIAS:  # the services write to the default database
        return
    if RunnerSession._meta.db_table not in connections[using].introspection.table_names():
        return  # migrated backwards past the app's tables
    services.session_ensure_default()


class ScenariosAppConfig(AppConfig):
    name = "scenarios_app"
    verbose_name = "Scenario runner"

    def ready(self) -> None:
        post_migrate.connect(_ensure_default_session, sender=self)
