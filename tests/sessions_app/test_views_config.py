"""The platform configuration pages and admin, with Django's test client: canonical booleans,
masked private values, delete with a confirmation step."""

import json

import pytest

from sessions_app.models import PlatformConfiguration
from tests.factories import UserFactory
from tests.sessions_app.factories import ConfigFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-smtp-password"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(role="Admin"))
    return client


@pytest.fixture
def trainee_client(client):
    client.force_login(UserFactory(role="Trainee"))
    return client


@pytest.fixture
def private():
    return ConfigFactory(name="private:SmtpPassword", value=SECRET)


def create(client, value, value_type=1, name="flags:beta"):
    body = {"name": name, "value_type": value_type, "value": value, "description": ""}
    return client.post("/sessions/config/new/", body)


# --- Booleans -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("sent", "stored"), [("TRUE", "true"), ("False", "false"), (" true\n", "true")])
def test_a_boolean_written_on_the_page_is_stored_as_true_or_false(admin_client, sent, stored):
    response = create(admin_client, sent)

    assert response.status_code == 302
    assert PlatformConfiguration.objects.get(name="flags:beta").value == stored


@pytest.mark.parametrize("sent", ["yes", "1", "no", "0"])
def test_a_boolean_other_than_true_or_false_is_a_form_error(admin_client, sent):
    response = create(admin_client, sent)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        f"Invalid configuration value: '{sent}' is not a boolean: use true or false."
    ]
    assert not PlatformConfiguration.objects.exists()


def test_the_value_help_text_says_which_booleans_are_accepted(admin_client):
    response = admin_client.get("/sessions/config/new/")

    assert "Booleans: true or false (in any case" in response.content.decode()


def test_the_django_admin_stores_booleans_through_the_same_rule(client, admin_user):
    client.force_login(admin_user)
    url = "/admin/sessions_app/platformconfiguration/add/"
    body = {"name": "flags:beta", "value_type": 1, "description": ""}

    refused = client.post(url, {**body, "value": "yes"})
    added = client.post(url, {**body, "value": "True"})

    assert refused.status_code == 200
    assert "use true or false" in refused.content.decode()
    assert added.status_code == 302
    assert PlatformConfiguration.objects.get(name="flags:beta").value == "true"


ADMIN_URL = "/admin/sessions_app/platformconfiguration/"


@pytest.mark.parametrize("name", ["a::b", "flags:", ":x"])
def test_the_django_admin_applies_the_name_rule(client, admin_user, name):
    client.force_login(admin_user)

    response = client.post(
        f"{ADMIN_URL}add/", {"name": name, "value_type": 0, "value": "x", "description": ""}
    )

    assert response.status_code == 200
    assert "Invalid configuration name" in response.content.decode()
    assert not PlatformConfiguration.objects.exists()


def test_the_django_admin_changes_through_the_same_rule(client, admin_user):
    client.force_login(admin_user)
    config = ConfigFactory(name="flags:beta", value_type=1, value="false")
    body = {"name": "flags:beta", "value_type": 1, "description": ""}

    refused = client.post(f"{ADMIN_URL}{config.pk}/change/", {**body, "value": "1"})
    changed = client.post(f"{ADMIN_URL}{config.pk}/change/", {**body, "value": "TRUE"})

    assert refused.status_code == 200
    assert "use true or false" in refused.content.decode()
    assert changed.status_code == 302
    config.refresh_from_db()
    assert config.value == "true"


def test_the_django_admin_deletes_selected_entries(client, admin_user):
    client.force_login(admin_user)
    entries = [ConfigFactory(), ConfigFactory()]

    response = client.post(
        ADMIN_URL,
        {"action": "delete_selected", "_selected_action": [entry.pk for entry in entries], "post": "yes"},
    )

    assert response.status_code == 302
    assert not PlatformConfiguration.objects.exists()


def test_the_django_admin_list_masks_private_values(client, admin_user, private):
    client.force_login(admin_user)

    response = client.get("/admin/sessions_app/platformconfiguration/")

    assert SECRET not in response.content.decode()


# --- Private values -----------------------------------------------------------------------------


def test_private_values_are_masked_on_the_configuration_page(admin_client, private):
    ConfigFactory(name="public_api_v1:Support", value="help@example.org")

    page = admin_client.get("/sessions/config/").content.decode()

    assert SECRET not in page
    assert "••••••" in page
    assert "help@example.org" in page
    assert 'aria-label="Reveal private:SmtpPassword"' in page


def test_an_admin_reveals_one_private_value_without_javascript(admin_client, private):
    other = ConfigFactory(name="private:ApiKey", value="other-secret")

    response = admin_client.post(f"/sessions/config/{private.pk}/reveal/")

    page = response.content.decode()
    assert response.status_code == 200
    assert SECRET in page
    assert other.value not in page
    assert "no-store" in response["Cache-Control"]


def test_the_reveal_answers_json_to_the_pages_script(admin_client, private):
    response = admin_client.post(
        f"/sessions/config/{private.pk}/reveal/", headers={"Accept": "application/json"}
    )

    assert json.loads(response.content) == {"name": private.name, "value": SECRET}


def test_reveal_is_a_post(admin_client, private):
    assert admin_client.get(f"/sessions/config/{private.pk}/reveal/").status_code == 405


def test_a_trainee_never_receives_a_private_value(trainee_client, private):
    for response in (
        trainee_client.get("/sessions/config/"),
        trainee_client.post(f"/sessions/config/{private.pk}/reveal/"),
        trainee_client.post(f"/sessions/config/{private.pk}/reveal/", headers={"Accept": "application/json"}),
        trainee_client.get(f"/sessions/config/{private.pk}/edit/"),
    ):
        assert response.status_code == 403
        assert SECRET not in response.content.decode()


def test_the_edit_form_of_a_private_value_does_not_show_it_and_empty_keeps_it(admin_client, private):
    form = admin_client.get(f"/sessions/config/{private.pk}/edit/").content.decode()
    body = {"name": private.name, "value_type": 0, "value": "", "description": "SMTP"}
    saved = admin_client.post(f"/sessions/config/{private.pk}/edit/", body)

    assert SECRET not in form
    assert saved.status_code == 302
    private.refresh_from_db()
    assert (private.value, private.description) == (SECRET, "SMTP")


# --- Delete -------------------------------------------------------------------------------------


def test_delete_asks_for_confirmation_first(admin_client, private):
    asked = admin_client.get(f"/sessions/config/{private.pk}/delete/")
    unconfirmed = admin_client.post(f"/sessions/config/{private.pk}/delete/")

    page = asked.content.decode()
    assert asked.status_code == 200
    assert 'name="confirm" value="yes"' in page
    assert 'class="danger"' in page
    assert 'href="/sessions/config/"' in page  # Cancel
    assert unconfirmed.status_code == 200
    assert PlatformConfiguration.objects.filter(pk=private.pk).exists()


def test_a_confirmed_delete_removes_it_and_redirects_with_a_success_message(admin_client, private):
    response = admin_client.post(f"/sessions/config/{private.pk}/delete/", {"confirm": "yes"}, follow=True)

    assert response.redirect_chain == [("/sessions/config/", 302)]
    assert not PlatformConfiguration.objects.exists()
    assert (
        '<p class="flash flash-success" role="status">Configuration private:SmtpPassword deleted.</p>'
        in response.content.decode()
    )


def test_the_list_links_to_delete(admin_client, private):
    page = admin_client.get("/sessions/config/").content.decode()

    assert f'href="/sessions/config/{private.pk}/delete/"' in page


def test_a_trainee_may_not_delete(trainee_client, private):
    response = trainee_client.post(f"/sessions/config/{private.pk}/delete/", {"confirm": "yes"})

    assert response.status_code == 403
    assert PlatformConfiguration.objects.filter(pk=private.pk).exists()
