"""The signed-in user's offline tokens page through Django's test client: ownership, what is
listed, caching."""

import pytest

from heatportal.accounts.services import offline_token_create, tokens_issue
from tests.factories import UserFactory


@pytest.mark.django_db
def test_another_users_token_cannot_be_revoked(client):
    owner_token, _value = offline_token_create(user=UserFactory(), name="theirs")
    client.force_login(UserFactory())

    response = client.post(f"/account/tokens/{owner_token.pk}/revoke/")

    assert response.status_code == 404
    owner_token.refresh_from_db()
    assert owner_token.revoked_at is None


@pytest.mark.django_db
def test_the_page_lists_only_the_users_own_offline_tokens(client):
    user = UserFactory()
    offline_token_create(user=user, name="mine")
    tokens_issue(user=user, remember_me=False)  # a sign-in's short-lived token: not listed
    offline_token_create(user=UserFactory(), name="theirs")
    client.force_login(user)

    response = client.get("/account/tokens/")

    assert [token.name for token in response.context["tokens"]] == ["mine"]


@pytest.mark.django_db
def test_the_response_showing_a_new_value_is_not_cached(client):
    client.force_login(UserFactory())

    created = client.post("/account/tokens/", {"name": "build server"})
    response = client.get(created["Location"])

    assert created.status_code == 303
    assert 'id="created-token-value"' in response.content.decode()  # the page showing the value
    assert "no-store" in response["Cache-Control"]
