"""Who may do what on the sites pages (the browser tests cover what the pages show)."""

import pytest

from sites_app.models import AccessGroup, SiteApiKey, SiteDeviceToken
from tests.factories import UserFactory


@pytest.fixture
def trainee_client(client, db):
    client.force_login(UserFactory(role="Trainee"))
    return client


def test_pages_need_a_signed_in_user(client, site):
    for url in ["/sites/", f"/sites/groups/{site.access_group.pk}/", f"/sites/s/{site.pk}/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_trainee_can_look_but_not_manage(trainee_client, site, device_token):
    group = site.access_group
    assert trainee_client.get(f"/sites/s/{site.pk}/").status_code == 200

    posts = [
        ("/sites/", {"name": "Mine"}),
        (f"/sites/groups/{group.pk}/keys/", {"key-name": "mine"}),
        (f"/sites/groups/{group.pk}/sites/", {"site-name": "Mine"}),
        (f"/sites/s/{site.pk}/device-token/", {}),
    ]
    for url, data in posts:
        assert trainee_client.post(url, data).status_code == 403, url

    assert not AccessGroup.objects.filter(name="Mine").exists()
    assert SiteApiKey.objects.count() == 0
    assert SiteDeviceToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_the_key_value_appears_only_on_the_page_the_creation_redirects_to(client, site):
    client.force_login(UserFactory(role="Admin"))
    group = site.access_group

    created = client.post(f"/sites/groups/{group.pk}/keys/", {"key-name": "ops"})
    shown = client.get(created["Location"])
    value = shown.context["new_key_value"]

    assert created.status_code == 303 and value.encode() not in created.content
    assert value not in created.cookies["heat_new_secret"].value  # carried encrypted
    assert value.encode() in shown.content
    assert value.encode() not in client.get(created["Location"]).content  # a reload
    assert value.encode() not in client.get(f"/sites/groups/{group.pk}/").content
    assert value.split(".ags_")[1] not in SiteApiKey.objects.get().secret_hash
    assert SiteApiKey.objects.count() == 1


def test_revoking_needs_post(client, site):
    client.force_login(UserFactory(role="Admin"))
    from sites_app import services

    key, _value = services.api_key_create(access_group=site.access_group, name="ops")

    assert client.get(f"/sites/groups/{site.access_group.pk}/keys/{key.pk}/revoke/").status_code == 405
    key.refresh_from_db()
    assert key.revoked_at is None


@pytest.mark.parametrize(
    ("date", "time", "expected"),
    [("2031-01-01", "13:30", "2031-01-01T13:30:00+00:00"), ("2031-01-01", "", "2031-01-01T00:00:00+00:00")],
)
def test_a_key_expiry_is_a_date_and_a_24_hour_utc_time(client, site, date, time, expected):
    client.force_login(UserFactory(role="Admin"))
    group = site.access_group

    client.post(
        f"/sites/groups/{group.pk}/keys/",
        {"key-name": "ops", "key-expires_at_0": date, "key-expires_at_1": time},
    )

    assert SiteApiKey.objects.get().expires_at.isoformat() == expected


def test_the_key_expiry_inputs_are_a_date_and_a_24_hour_time_in_utc(client, site):
    client.force_login(UserFactory(role="Admin"))

    page = client.get(f"/sites/groups/{site.access_group.pk}/").content.decode()

    assert 'type="date" name="key-expires_at_0"' in page
    assert 'placeholder="HH:MM"' in page and "24-hour" in page and "(UTC)" in page
    assert 'type="datetime-local"' not in page
