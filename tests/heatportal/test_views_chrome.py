"""What every page shares: the favicon, the admin's names, how messages look."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from crowd_app.models import WebhookDelivery
from sessions_app.models import PlatformConfiguration
from sites_app.models import ScheduleBatch
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_favicon_ico_leads_to_the_portals_icon(client):
    response = client.get("/favicon.ico", follow=True)

    assert response.redirect_chain == [("/static/favicon.svg", 302)]
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")


def test_pages_link_the_icon(client):
    page = client.get("/login/").content.decode()

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page


def test_the_admin_is_named_heat_portal(admin_client):
    page = admin_client.get("/admin/").content.decode()

    assert "Django administration" not in page
    assert "Django site admin" not in page
    assert '<a href="/admin/">HEAT Portal</a>' in page
    assert "<title>HEAT Portal administration | HEAT Portal</title>" in page


def test_plural_names_are_english():
    assert WebhookDelivery._meta.verbose_name_plural == "webhook deliveries"
    assert ScheduleBatch._meta.verbose_name_plural == "schedule batches"


def test_the_admin_index_shows_the_plural_names(admin_client):
    page = admin_client.get("/admin/").content.decode()

    assert "Webhook deliveries" in page and "Webhook deliverys" not in page
    assert "Schedule batches" in page and "Schedule batchs" not in page
    assert "Site API keys" in page and "Crowd API keys" in page


def test_a_success_message_is_styled_as_a_success(client):
    client.force_login(UserFactory(role="Admin"))
    body = {"name": "ui:theme", "value_type": PlatformConfiguration.ValueType.STRING, "value": "dark"}

    page = client.post("/sessions/config/new/", body, follow=True).content.decode()

    assert '<p class="flash flash-success" role="status">Configuration ui:theme created.</p>' in page


def test_each_message_level_has_its_own_style():
    css = Path(finders.find("css/portal.css")).read_text()

    for level in ("info", "success", "warning", "error"):
        assert f".flash-{level}" in css
