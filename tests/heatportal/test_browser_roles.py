"""The permission table (docs/permissions.md) walked in a real browser, once per role: what the
role may do works on the page (asking first where it destroys), what it may not do is not
offered, is refused on the page (403) and in the API (403 in the family's error shape)."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from heatportal.accounts.models import AccessToken
from heatportal.credentials import credential_issue
from scenarios_app import services as runner
from scenarios_app.models import RunnerSession, Scenario
from sites_app import services as sites
from sites_app.models import SiteApiKey
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

API = "/api/v1"


@pytest.fixture
def installation(transactional_db):
    """``main`` with ``Master data``, a scenario of the installation's, an access group."""
    runner.session_ensure_default()
    main = RunnerSession.objects.get(display_name="main")
    theirs = runner.scenario_create(
        session=main, tag="installation", dataset_key="Master data", algo_name="Slow"
    )
    group = sites.access_group_create(name="Utility A")
    sites.api_key_create(access_group=group, name="ops")
    return {"main": main, "theirs": theirs, "group": group}


def post_from_page(page, url: str, form: dict | None = None):
    """A POST with the signed-in browser's session and CSRF token, as a crafted form would send
    it: the server must refuse it on the permission, not on the CSRF check."""
    token = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")
    return page.request.post(url, form=form or {}, headers={"X-CSRFToken": token, "Referer": page.url})


def api(live_url: str, user) -> httpx.Client:
    _token, value = credential_issue(AccessToken, user=user)
    return httpx.Client(base_url=live_url, headers={"Authorization": f"Bearer {value}"}, timeout=30)


@pytest.mark.parametrize("role", ["Admin", "Instructor", "Trainee"])
def test_each_role_walks_the_permission_table(role, sign_in, live_url, installation):
    user = UserFactory(role=role, is_staff=role == "Admin")
    is_admin = role == "Admin"
    client = api(live_url, user)
    page = sign_in(user)

    own_scenario_is_run_reset_and_deleted(page, client, installation["main"])
    installation_scenario_and_session(page, client, installation, is_admin=is_admin)
    energy_sites(page, installation["group"], is_admin=is_admin)
    platform_configuration(page, client, role, is_admin=is_admin)
    changes_and_admin(page, is_admin=is_admin)


def own_scenario_is_run_reset_and_deleted(page, client: httpx.Client, main: RunnerSession) -> None:
    """Runner: everyone creates (here through the API) and owns what they create; the page
    offers run, reset and delete of it, reset and delete asking first."""
    mine = client.post(
        f"{API}/sessions/main/scenarios",
        json={
            "tag": "mine",
            "dataset_key": "Master data",
            "algo_name": "Slow",
            "algo_params": {"duration": 1},
        },
    ).json()
    page.goto(f"/scenarios/s/{main.pk}/scenarios/{mine['id']}/")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".flash-success")).to_contain_text("queued")
    Scenario.objects.filter(pk=mine["id"]).update(status="complete", progress=1.0)  # as a worker would
    page.reload()
    page.get_by_role("button", name="Reset…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset scenario 'mine'?")
    assert Scenario.objects.get(pk=mine["id"]).status == "complete"  # nothing reset yet
    page.get_by_role("button", name="Reset scenario 'mine'").click()
    expect(page.locator(".flash-success")).to_contain_text("reset")
    assert Scenario.objects.get(pk=mine["id"]).status == "created"
    page.get_by_role("button", name="Delete…").click()
    page.get_by_role("link", name="Cancel").click()  # cancelling keeps it
    assert Scenario.objects.filter(pk=mine["id"]).exists()
    page.get_by_role("button", name="Delete…").click()
    page.get_by_role("button", name="Delete scenario 'mine'").click()
    expect(page.locator(".flash-success")).to_contain_text("deleted")
    assert not Scenario.objects.filter(pk=mine["id"]).exists()


def installation_scenario_and_session(
    page, client: httpx.Client, installation: dict, *, is_admin: bool
) -> None:
    """The installation's scenario and session: an administrator's only."""
    main, theirs = installation["main"], installation["theirs"]
    page.goto(f"/scenarios/s/{main.pk}/scenarios/{theirs.pk}/")
    expect(page.get_by_role("button", name="Run")).to_have_count(1 if is_admin else 0)
    run = client.post(f"{API}/sessions/main/scenarios/{theirs.pk}/run")
    if is_admin:
        assert run.status_code == 202
    else:
        expect(page.get_by_text("Owner: the installation")).to_be_visible()
        assert run.status_code == 403 and set(run.json()) == {"detail"}
        refused = post_from_page(page, f"/scenarios/s/{main.pk}/scenarios/{theirs.pk}/run/")
        assert refused.status == 403 and "Not allowed" in refused.text()
        assert Scenario.objects.get(pk=theirs.pk).status == "created"
    page.goto(f"/scenarios/s/{main.pk}/")
    expect(page.get_by_role("button", name="Delete session…")).to_have_count(1 if is_admin else 0)
    deleted = client.delete(f"{API}/sessions/main/data/Master data")
    assert deleted.status_code == (409 if is_admin else 403)  # an admin is stopped by its scenarios only


def energy_sites(page, group, *, is_admin: bool) -> None:
    """Energy sites: everyone looks; administrators manage."""
    page.goto(f"/sites/groups/{group.pk}/")
    expect(page.get_by_role("button", name="Create API key")).to_have_count(1 if is_admin else 0)
    key = SiteApiKey.objects.get(name="ops")
    if is_admin:
        page.get_by_role("button", name="Revoke ops").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Revoke API key ops?")
        key.refresh_from_db()
        assert key.revoked_at is None
    else:
        refused = post_from_page(page, f"/sites/groups/{group.pk}/keys/{key.pk}/revoke/", {"confirm": "yes"})
        assert refused.status == 403 and "Not allowed" in refused.text()
        key.refresh_from_db()
        assert key.revoked_at is None


def platform_configuration(page, client: httpx.Client, role: str, *, is_admin: bool) -> None:
    """HEAT v2 platform configuration: administrators only, on the page and in the API."""
    response = page.goto("/sessions/config/")
    assert response.status == (200 if is_admin else 403)
    created = client.post("/api/v2/config", json={"name": f"demo:{role.lower()}", "value": "x"})
    if is_admin:
        assert created.status_code == 201
    else:
        assert created.status_code == 403 and "message" in created.json()


def changes_and_admin(page, *, is_admin: bool) -> None:
    """The history of changes, and the Django admin (with is_staff): administrators only."""
    response = page.goto("/changes/")
    assert response.status == (200 if is_admin else 403)
    if is_admin:
        expect(page.get_by_role("heading", level=1)).to_have_text("Changes")

    response = page.goto("/admin/")
    if is_admin:
        expect(page.get_by_role("link", name=re.compile("Scenarios", re.I)).first).to_be_visible()
    else:
        assert "/admin/login/" in page.url or response.status == 403
