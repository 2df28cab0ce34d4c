"""The portal shell in a real browser: sign in (and its lock after failures), the live dashboard,
the areas, the admin."""

import os
import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory
from tests.helpers import browser_sign_in

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


# --- Narrow screens ---------------------------------------------------------------------------


NARROW = {"width": 390, "height": 844}


def test_pages_with_tables_fit_a_narrow_screen_and_the_navigation_stays_compact(browser, live_url):
    from django.core.management import call_command

    from scenarios_app.models import RunnerSession, Scenario
    from sites_app.models import Site

    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 (closed on exit)
    session = RunnerSession.objects.get(display_name="main")
    scenario = Scenario.objects.filter(session=session, status="complete").first()
    site = Site.objects.filter(schedule_entries__isnull=False).distinct().first() or Site.objects.first()
    admin = UserFactory(role="Admin", is_staff=True, is_superuser=True)
    context = browser.new_context(base_url=live_url, viewport=NARROW)
    context.set_default_timeout(15_000)
    page = browser_sign_in(context.new_page(), admin)

    for path in [
        "/requests/",
        f"/scenarios/s/{session.pk}/",
        f"/scenarios/s/{session.pk}/scenarios/{scenario.pk}/",
        f"/sites/s/{site.pk}/",
        f"/sites/groups/{site.access_group.pk}/",
        "/",
    ]:
        page.goto(path)
        page.wait_for_load_state("load")

        too_wide = page.evaluate(
            "[...document.querySelectorAll('body *')]"
            ".filter((e) => e.getBoundingClientRect().right > innerWidth + 1)"
            ".filter((e) => !e.closest('.table-scroll, .areas'))"
            ".map((e) => `${e.tagName}.${e.className}`).slice(0, 5)"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"], (path, too_wide)
        nav_height = page.evaluate("document.querySelector('header.topbar').getBoundingClientRect().height")
        assert nav_height < NARROW["height"] * 0.25 * 0.5, (path, nav_height)  # well under a quarter
        assert page.locator("table.data").count() == page.locator(".table-scroll > table.data").count()
    context.close()


def test_the_dashboard_states_the_zone_of_its_update_time(sign_in):
    page = sign_in(UserFactory())

    expect(page.locator("[data-updated]")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))


def test_the_sign_in_page_says_why_in_a_browser(page, settings, transactional_db):
    settings.HEAT_AUTH_MAX_FAILURES_PER_USER = 1
    user = UserFactory(username="ada")

    page.goto("/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("didn't match").wait_for()
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/login/") and r.request.method == "POST") as info:
        page.get_by_role("button", name="Sign in").click()

    assert info.value.status == 429
    assert "Too many failed sign-in attempts" in page.get_by_role("alert").inner_text()
    assert page.url.endswith("/login/")
