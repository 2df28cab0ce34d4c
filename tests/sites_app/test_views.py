"""Who may do what on the sites pages (the browser tests cover what the pages show)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from sites_app import history, services
from sites_app.api.outputs import format_time
from sites_app.models import (
    AccessGroup,
    ScheduleBatch,
    ScheduleEntry,
    Site,
    SiteApiKey,
    SiteDeviceToken,
    TelemetryReport,
)
from tests.factories import UserFactory
from tests.sites_app.helpers import doc_schedules, report_now


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


# --- The site page's live state, history and CSV ----------------------------------------------------


def _reported(site, moment, **values):
    """A history row of ``site`` at ``moment`` (setup: the gateway API's own tests store them)."""
    return TelemetryReport.objects.create(site=site, reported_at=moment, **values)


def test_the_live_state_gives_each_assets_power_direction_and_the_bess_soc(trainee_client, site):
    report_now(
        site,
        grid={"activePowerkW": -40},
        bess={"activePowerkW": -25.5, "soc": 62},
        load={"activePowerkW": 80},
    )

    body = trainee_client.get(f"/sites/s/{site.pk}/live.json").json()

    assert body["isOnline"] is True and body["stale"] is False
    assets = {asset["type"]: asset for asset in body["assets"]}
    assert [asset["type"] for asset in body["assets"]] == [
        "grid",
        "solar",
        "bess",
        "ev",
        "heatpump",
        "genset",
        "load",
    ]
    grid, bess, load = assets["grid"], assets["bess"], assets["load"]
    assert (grid["activePowerkW"], grid["direction"], grid["directionText"], grid["flowText"]) == (
        -40,
        "export",
        "exporting",
        "40.0\u202fkW",
    )
    assert (bess["direction"], bess["soc"], bess["text"]["soc"], bess["text"]["power"]) == (
        "charge",
        62,
        "62.0\u202f%",
        "\u221225.5",
    )
    assert (load["direction"], load["arrow"]) == ("consume", "→")
    assert assets["solar"]["direction"] == "unknown"  # never reported
    assert body["reportedAt"].endswith("Z") and body["reportedAtText"].endswith(" UTC")


def test_the_live_state_is_stale_once_the_site_is_offline(trainee_client, site, settings):
    report_now(site, grid={"activePowerkW": 120})
    settings.SITE_OFFLINE_AFTER = 300
    assert trainee_client.get(f"/sites/s/{site.pk}/live.json").json()["stale"] is False

    Site.objects.filter(pk=site.pk).update(reported_at=timezone.now() - timedelta(seconds=301))
    body = trainee_client.get(f"/sites/s/{site.pk}/live.json").json()
    page = trainee_client.get(f"/sites/s/{site.pk}/").content.decode()

    assert (body["isOnline"], body["stale"]) == (False, True)
    assert body["assets"][0]["flowText"] == "120.0\u202fkW"  # the last values, marked stale
    assert "Stale:" in page and "the site is offline" in page


def test_a_site_that_never_reported_is_stale(trainee_client, site):
    body = trainee_client.get(f"/sites/s/{site.pk}/live.json").json()

    assert (body["stale"], body["reportedAt"], body["reportedAtText"]) == (True, None, "never")


def test_the_json_endpoints_need_a_signed_in_user_who_may_see_the_page(client, site):
    urls = [f"/sites/s/{site.pk}/live.json", f"/sites/s/{site.pk}/history.json"]
    for url in urls:
        response = client.get(url)
        assert (response.status_code, response.json()) == (401, {"detail": "Sign in to see this site."})
    inactive = UserFactory(role="Admin")
    client.force_login(inactive)
    type(inactive).objects.filter(pk=inactive.pk).update(is_active=False)
    for url in urls:  # an account switched off since it signed in
        assert client.get(url).status_code in (401, 403)
    csv = client.get(f"/sites/s/{site.pk}/history.csv")
    assert csv.status_code == 302 and csv["Location"].startswith("/login/")


def test_the_json_endpoints_answer_404_for_an_unknown_site(trainee_client, db):
    for name in ["live.json", "history.json"]:
        response = trainee_client.get(f"/sites/s/{uuid.uuid4()}/{name}")
        assert (response.status_code, response.json()) == (404, {"detail": "No such site."})


def _in_force(site, *, start, end, value):
    """A BESS set point over ``[start, end)``: applied from now on, then moved back to ``start``
    (batches only schedule from now on)."""
    entry = {
        "startAt": format_time(timezone.now() + timedelta(minutes=5)),
        "endAt": format_time(end),
        "value": value,
    }
    batch = services.schedule_batch_apply(
        site=site, commands=[{"asset": "bess", "type": "activePowerkW", "entries": [entry]}], sent_by="test"
    )
    ScheduleEntry.objects.filter(batch=batch).update(start_at=start)


def test_the_history_gives_measured_power_and_soc_at_the_ranges_resolution_with_the_schedule(
    trainee_client, site
):
    now = timezone.now()
    hour = history.bucket_start(now, 3600) - timedelta(hours=2)
    _reported(site, hour, grid_kw=10, bess_kw=-20, bess_soc_pcnt=40)
    _reported(site, hour + timedelta(minutes=5), grid_kw=30, bess_kw=-20, bess_soc_pcnt=45)
    _reported(site, now - timedelta(days=2), grid_kw=99)  # outside 24 h, inside 7 days
    _in_force(site, start=now - timedelta(hours=1), end=now + timedelta(hours=1), value=-20)

    day = trainee_client.get(f"/sites/s/{site.pk}/history.json").json()
    week = trainee_client.get(f"/sites/s/{site.pk}/history.json?range=7d").json()
    hours = trainee_client.get(f"/sites/s/{site.pk}/history.json?range=6h").json()

    assert (day["range"], day["resolution"], week["resolution"], hours["resolution"]) == (
        "24h",
        "15m",
        "1h",
        "5m",
    )
    [point] = day["points"]  # both reports in one 15-minute bucket: power averaged, SoC the last
    assert point["t"] == format_time(hour)
    assert point["assets"]["grid"] == {"activePowerkW": 20.0}
    assert point["assets"]["bess"]["activePowerkW"] == -20.0 and point["assets"]["bess"]["soc"] == 45
    assert len(week["points"]) == 2 and len(hours["points"]) == 2
    assert day["scheduled"] == [
        {
            "asset": "bess",
            "type": "activePowerkW",
            "startAt": format_time(now - timedelta(hours=1)),
            "endAt": format_time(now + timedelta(hours=1)),
            "value": -20,
        }
    ]


def test_the_schedule_over_a_range_ends_where_a_later_batch_replaced_it(trainee_client, site):
    now = timezone.now()
    command = {
        "asset": "grid",
        "type": "upperLimitkW",
        "entries": [
            {
                "startAt": format_time(now + timedelta(minutes=1)),
                "endAt": format_time(now + timedelta(hours=2)),
                "value": 50,
            }
        ],
    }
    first = services.schedule_batch_apply(site=site, commands=[command], sent_by="test")
    ScheduleEntry.objects.filter(batch=first).update(start_at=now - timedelta(hours=3))
    later = services.schedule_batch_apply(site=site, commands=[{**command, "entries": []}], sent_by="test")
    ScheduleBatch.objects.filter(pk=later.pk).update(created_at=now - timedelta(hours=1))

    [entry] = trainee_client.get(f"/sites/s/{site.pk}/history.json?range=6h").json()["scheduled"]

    assert (entry["startAt"], entry["endAt"]) == (
        format_time(now - timedelta(hours=3)),
        format_time(now - timedelta(hours=1)),
    )


def test_an_unknown_range_is_a_400(trainee_client, site):
    response = trainee_client.get(f"/sites/s/{site.pk}/history.json?range=1y")

    assert (response.status_code, response.json()) == (400, {"detail": "range must be one of 6h, 24h, 7d."})
    assert trainee_client.get(f"/sites/s/{site.pk}/history.csv?range=1y").status_code == 400
    assert trainee_client.get(f"/sites/s/{site.pk}/?range=1y").status_code == 200  # the page: the default


def test_the_csv_download_streams_the_same_range(trainee_client, site):
    now = timezone.now()
    _reported(site, now - timedelta(hours=3), grid_kw=12.5, bess_soc_pcnt=50)
    _reported(site, now - timedelta(hours=30), grid_kw=99)

    response = trainee_client.get(f"/sites/s/{site.pk}/history.csv?range=24h")
    lines = b"".join(response.streaming_content).decode().splitlines()

    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith(f'attachment; filename="telemetry-{site.pk}-')
    assert lines[0].startswith("t,grid_activePowerkW,") and len(lines) == 2
    assert ",12.5," in lines[1]


def test_the_site_page_links_the_csv_of_its_range_and_shows_the_audit_trails_acknowledgement(
    trainee_client, site
):
    scenario_id = uuid.uuid4()
    acknowledged = services.schedule_batch_apply(
        site=site, commands=doc_schedules(), sent_by="admin", source=ScheduleBatch.Source.SCENARIO
    )
    ScheduleBatch.objects.filter(pk=acknowledged.pk).update(
        scenario_id=scenario_id,
        applied_at=datetime(2030, 5, 31, 12, 0, 5, tzinfo=UTC),
        acknowledged_at=datetime(2030, 5, 31, 12, 0, 6, tzinfo=UTC),
    )
    services.schedule_batch_apply(site=site, commands=doc_schedules("2030-06-02"), sent_by="ops")

    page = trainee_client.get(f"/sites/s/{site.pk}/?range=7d").content.decode()

    assert f'href="/sites/s/{site.pk}/history.csv?range=7d"' in page
    assert "Scenario <code" in page and str(scenario_id) in page
    assert "applied by the gateway at <time" in page and "2030-05-31 12:00:05 UTC" in page
    assert "not yet acknowledged" in page


def test_the_site_page_offers_a_runner_dataset_made_from_the_site(trainee_client, site):
    try:
        url = reverse("scenarios:from-site")
    except NoReverseMatch:  # the runner's page is not there: the page leaves the link out
        url = None

    page = trainee_client.get(f"/sites/s/{site.pk}/").content.decode()

    if url is None:
        assert "Create a runner dataset from this site" not in page
    else:
        assert f'href="{url}?site={site.pk}">Create a runner dataset from this site</a>' in page
