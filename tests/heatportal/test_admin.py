import pytest
from django.apps import apps
from django.contrib import admin

OUR_APPS = ("accounts", "heatportal", "sessions_app", "sites_app", "scenarios_app", "crowd_app")


def our_models():
    return [model for label in OUR_APPS for model in apps.get_app_config(label).get_models()]


def test_every_model_is_in_the_admin():
    missing = [model.__name__ for model in our_models() if not admin.site.is_registered(model)]

    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize("model", our_models(), ids=lambda model: model.__name__)
def test_admin_lists_load(admin_client, model):
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"

    assert admin_client.get(url).status_code == 200
