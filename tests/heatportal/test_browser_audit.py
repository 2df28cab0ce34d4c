"""The Changes page (heatportal/audit.py) in a real browser, on the production lanes."""

import httpx
import pytest
from playwright.sync_api import expect

from heatportal.accounts.models import AccessToken, User
from heatportal.credentials import credential_issue
from scenarios_app.models import RunnerSession
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_the_changes_page_in_a_browser_shows_api_and_page_changes(sign_in, live_url):
    """The API lane runs no middleware (heatportal/lanes.py): the API view itself names the
    credential. The page change is the signed-in administrator's."""
    ivy = UserFactory(username="ivy", role=User.Role.INSTRUCTOR)
    token, value = credential_issue(AccessToken, user=ivy, name="ci", is_offline=True)
    created = httpx.post(
        f"{live_url}/api/v1/sessions",
        json={"display_name": "lane study"},
        headers={"Authorization": f"Bearer {value}", "X-Request-ID": "lane-1"},
    )
    assert created.status_code in (200, 201), created.text
    page = sign_in(UserFactory(username="ada", role=User.Role.ADMIN))
    runner = RunnerSession.objects.get(display_name="lane study")
    page.goto(f"/scenarios/s/{runner.pk}/")
    page.locator("input[name=display_name]").last.fill("lane study 2")
    page.get_by_role("button", name="Rename").click()

    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Changes").click()

    rows = page.get_by_role("table", name="Changes").get_by_role("row")
    renamed = rows.filter(has_text="lane study 2").first
    expect(renamed).to_contain_text("ada")
    expect(renamed.locator("del")).to_have_text("lane study")
    expect(renamed.locator("ins")).to_have_text("lane study 2")
    created_row = rows.filter(has_text=f"ivy with {token.masked}")
    expect(created_row).to_contain_text("created")
    expect(created_row).to_contain_text("lane-1")
    assert value not in page.content()
