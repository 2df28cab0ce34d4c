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


def test_the_key_value_appears_only_in_the_creating_response(client, site):
    client.force_login(UserFactory(role="Admin"))
    group = site.access_group

    created = client.post(f"/sites/groups/{group.pk}/keys/", {"key-name": "ops"})
    value = created.context["new_key_value"]

    assert value.encode() in created.content
    assert value.encode() not in client.get(f"/sites/groups/{group.pk}/").content
    assert value.split(".ags_")[1] not in SiteApiKey.objects.get().secret_hash


def test_revoking_needs_post(client, site):
    client.force_login(UserFactory(role="Admin"))
    from sites_app import services

    key, _value = services.api_key_create(access_group=site.access_group, name="ops")

    assert client.get(f"/sites/groups/{site.access_group.pk}/keys/{key.pk}/revoke/").status_code == 405
    key.refresh_from_db()
    assert key.revoked_at is None
