"""Helpers shared by the whole suite (fixtures live in conftest.py files, helpers here)."""

from pathlib import Path

from rest_framework.test import APIClient

from heatportal.accounts.models import AccessToken
from heatportal.credentials import credential_issue
from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parent.parent


def bearer_client(role: str, **user_fields) -> APIClient:
    """An API client with a HEAT bearer token (HEAT v2 API, scenario runner) for a new user of
    ``role``; the client carries its ``user`` and its ``token``."""
    user = UserFactory(role=role, **user_fields)
    _token, value = credential_issue(AccessToken, user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    client.user = user
    client.token = value
    return client


def browser_sign_in(page, user, password: str = PASSWORD):
    """Sign ``user`` in through the login form of ``page`` (Playwright); returns the page once
    it has left the login page."""
    page.goto("/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    return page
