import pytest
from django.apps import apps
from django.contrib import admin
from django.db.models import CompositePrimaryKey

OUR_APPS = ("accounts", "heatportal", "sessions_app", "sites_app", "scenarios_app", "crowd_app")


def our_models():
    """Our models, but for those with a composite primary key, which Django's admin refuses to
    register (ImproperlyConfigured): the telemetry history, read on the site page, through the
    public API and as CSV."""
    return [
        model
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models()
        if not isinstance(model._meta.pk, CompositePrimaryKey)
    ]


def test_the_models_left_out_are_the_telemetry_history_only():
    left_out = [
        model.__name__
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models()
        if model not in our_models()
    ]

    assert left_out == ["TelemetryReport"]


def test_every_model_is_in_the_admin():
    missing = [model.__name__ for model in our_models() if not admin.site.is_registered(model)]

    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize("model", our_models(), ids=lambda model: model.__name__)
def test_admin_lists_load(admin_client, model):
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"

    assert admin_client.get(url).status_code == 200
