"""The portal shell in a real browser: sign in, the live dashboard, the areas, the admin."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import UserFactory

pytestmark = pytest.mark.browser


@pytest.mark.worker
def test_sign_in_and_see_the_dashboard_with_the_worker_alive(sign_in, celery_worker):
    page = sign_in(UserFactory(username="grace"))

    expect(page).to_have_title(re.compile("Dashboard"))
    expect(page.locator("[data-check=database] [data-state]")).to_have_text("up")
    expect(page.locator("[data-check=broker] [data-state]")).to_have_text("up")
    workers = page.locator("[data-check=workers]")
    expect(workers.locator("[data-state]")).to_have_text("up")
    expect(workers.locator("[data-names]")).to_contain_text(celery_worker)
    expect(page.locator(".account")).to_contain_text("grace")


@pytest.mark.worker
def test_the_dashboard_notices_a_worker_going_down(sign_in, celery_workers):
    celery_workers.stop_all()
    hostname = celery_workers.start()
    page = sign_in(UserFactory())
    workers = page.locator("[data-check=workers]")
    expect(workers.locator("[data-names]")).to_contain_text(hostname)

    celery_workers.stop(hostname)

    # The page refreshes itself every 5 seconds; no reload.
    expect(workers.locator("[data-state]")).to_have_text("down", timeout=20_000)
    expect(workers.locator("[data-names]")).not_to_contain_text(hostname)
    expect(workers).to_have_class(re.compile(r"\bdown\b"))


def test_wrong_password_stays_on_the_sign_in_page(page, transactional_db):
    user = UserFactory()
    page.goto("/")  # redirected to sign in
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()

    expect(page.locator(".flash-error")).to_contain_text("didn't match")
    expect(page).to_have_url(re.compile("/login/"))


def test_navigation_reaches_the_four_areas_and_signs_out(sign_in, transactional_db):
    page = sign_in(UserFactory())

    for title in ["Sessions", "Energy sites", "Scenarios", "Crowd requests"]:
        page.get_by_role("navigation", name="Areas").get_by_role("link", name=title).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(title)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile("/login/"))


def test_staff_reach_the_admin(sign_in, transactional_db):
    page = sign_in(UserFactory(is_staff=True, is_superuser=True))

    page.get_by_role("link", name="Admin").click()

    expect(page.get_by_role("link", name="Users", exact=True)).to_be_visible()


def test_api_docs_render_swagger_ui_without_signing_in(page, transactional_db):
    page.goto("/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("HEAT Portal API")
