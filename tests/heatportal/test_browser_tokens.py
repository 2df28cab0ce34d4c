"""The signed-in user's offline tokens page in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from heatportal.accounts.models import AccessToken
from heatportal.credentials import InvalidCredential, credential_authenticate
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

TOKEN_VALUE = re.compile(r"hat_[A-Za-z0-9]{12}\.[A-Za-z0-9]{40}")


def create_token(page, name: str) -> str:
    """Create a token through the form; returns the value the page shows."""
    page.get_by_role("link", name="Offline tokens").click()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create token").click()
    return page.get_by_label("Token value").input_value()


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


def test_the_shown_value_authenticates_as_the_user(sign_in, transactional_db):
    user = UserFactory()
    page = sign_in(user)

    value = create_token(page, "build server")

    assert credential_authenticate(AccessToken.objects.all(), value).user == user


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


def test_an_empty_name_is_rejected(sign_in, transactional_db):
    page = sign_in(UserFactory())
    page.goto("/account/tokens/")

    page.get_by_role("button", name="Create token").click()

    expect(page.locator(".errorlist")).to_have_text("This field is required.")
    assert not AccessToken.objects.exists()
