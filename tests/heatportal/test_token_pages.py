"""The signed-in user's offline tokens page in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from heatportal.accounts.models import AccessToken
from heatportal.accounts.services import offline_token_create, tokens_issue
from heatportal.credentials import InvalidCredential, credential_authenticate
from tests.factories import UserFactory

TOKEN_VALUE = re.compile(r"hat_[A-Za-z0-9]{12}\.[A-Za-z0-9]{40}")


def create_token(page, name: str) -> str:
    """Create a token through the form; returns the value the page shows."""
    page.get_by_role("link", name="Offline tokens").click()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create token").click()
    return page.get_by_label("Token value").input_value()


@pytest.mark.browser
def test_a_created_token_is_shown_once_then_only_masked(sign_in, transactional_db):
    page = sign_in(UserFactory())

    value = create_token(page, "build server")

    assert TOKEN_VALUE.fullmatch(value)
    expect(page.get_by_role("status")).to_contain_text("Copy it now; it will not be shown again.")
    token = AccessToken.objects.get()
    assert (token.name, token.is_offline) == ("build server", True)
    page.reload()
    expect(page.get_by_label("Token value")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(value)
    row = page.get_by_role("row", name=re.compile("build server"))
    expect(row.get_by_role("cell").first).to_have_text(token.masked)
    expect(row).to_contain_text("Active")
    assert AccessToken.objects.count() == 1  # the reload did not submit the form again


@pytest.mark.browser
def test_the_shown_value_authenticates_as_the_user(sign_in, transactional_db):
    user = UserFactory()
    page = sign_in(user)

    value = create_token(page, "build server")

    assert credential_authenticate(AccessToken.objects.all(), value).user == user


@pytest.mark.browser
def test_a_revoked_token_no_longer_authenticates(sign_in, transactional_db):
    page = sign_in(UserFactory())
    value = create_token(page, "build server")

    page.get_by_role("button", name="Revoke build server").click()
    credential_authenticate(AccessToken.objects.all(), value)  # asked first: still valid
    page.get_by_role("button", name="Revoke token build server").click()

    row = page.get_by_role("row", name=re.compile("build server"))
    expect(row).to_contain_text("Revoked")
    expect(row.get_by_role("button", name="Revoke build server")).to_have_count(0)
    with pytest.raises(InvalidCredential):
        credential_authenticate(AccessToken.objects.all(), value)


@pytest.mark.browser
def test_an_empty_name_is_rejected(sign_in, transactional_db):
    page = sign_in(UserFactory())
    page.goto("/account/tokens/")

    page.get_by_role("button", name="Create token").click()

    expect(page.locator(".errorlist")).to_have_text("This field is required.")
    assert not AccessToken.objects.exists()


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
