"""The public API of document 002, with the document's own examples."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from heatportal.credentials import credential_cache_clear
from sites_app import services
from sites_app.api.outputs import format_time
from sites_app.models import Asset, ScheduleBatch, ScheduleEntry
from tests.factories import AccessGroupFactory
from tests.sites_app.helpers import DOC_SCHEDULES, DOC_SITE_ID, doc_schedules, key_client, report_now

V1 = "/api/v1/public"
V0 = "/api/v0/public"


def schedules_url(site_id=DOC_SITE_ID, prefix=V1) -> str:
    return f"{prefix}/sites/{site_id}/schedules"


# --- The document's examples --------------------------------------------------------------------


def test_the_documents_schedule_example_is_accepted_with_the_number_of_entries_stored(api, site):
    response = api.post(schedules_url(), {"schedules": DOC_SCHEDULES}, format="json")

    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"batchId", "accepted"}
    assert body["accepted"] == 6
    batch = ScheduleBatch.objects.get(pk=uuid.UUID(body["batchId"]))
    assert batch.site == site and batch.api_key == api.key
    assert ScheduleEntry.objects.filter(batch=batch).count() == 6


def test_list_sites_answers_as_the_document_shows(api, site):
    api.post(schedules_url(), {"schedules": doc_schedules()}, format="json")
    report_now(site, grid={"activePowerkW": 120})

    response = api.get(f"{V1}/sites")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    [listed] = response.json()["sites"]
    assert listed["siteId"] == "123e4567-e89b-12d3-a456-426614174000"
    assert listed["siteName"] == "Site 1"
    assert listed["isOnline"] is True
    assert listed["reportedAt"].endswith("Z")
    assert listed["schedules"] == doc_schedules()  # same order, same shape, integers stay integers


def test_site_detail_answers_as_the_document_shows(api, site):
    api.post(schedules_url(), {"schedules": doc_schedules()}, format="json")
    report_now(
        site,
        grid={"activePowerkW": 120},
        solar={"activePowerkW": 150},
        bess={"activePowerkW": 30, "availableStorageCapacitykWh": 500, "soc": 75},
        ev={"activePowerkW": 22},
        heatpump={"activePowerkW": 10},
        genset={"activePowerkW": 0},
        load={"activePowerkW": 250},
    )

    response = api.get(f"{V1}/sites/{DOC_SITE_ID}")

    assert response.status_code == 200
    body = response.json()
    assert body["siteId"] == str(DOC_SITE_ID)
    assert body["isOnline"] is True
    assert body["schedules"] == doc_schedules()
    assert body["assets"] == {
        "grid": asset("grid", 500, -500, 120),
        "solar": asset("solar", 200, 0, 150),
        "bess": asset(
            "bess", 100, -100, 30, ratedEnergyCapacitykWh=500, availableStorageCapacitykWh=500, soc=75
        ),
        "ev": asset("ev", 50, 0, 22),
        "heatpump": asset("heatpump", 20, 0, 10),
        "genset": asset("genset", 300, 0, 0),
        "load": asset("load", 400, 0, 250),
    }


def asset(kind, upper, lower, power, **extra):
    return {
        "id": f"0-{kind}",
        "type": kind,
        "ratedPowerUpperLimitkW": upper,
        "ratedPowerLowerLimitkW": lower,
        "activePowerkW": power,
        **extra,
    }


def test_a_site_without_telemetry_is_offline_with_no_values(api, site):
    body = api.get(f"{V1}/sites/{DOC_SITE_ID}").json()

    assert body["isOnline"] is False
    assert body["reportedAt"] is None
    assert body["assets"]["grid"]["activePowerkW"] is None
    assert body["schedules"] == []


def test_a_site_goes_offline_once_its_last_report_is_older_than_the_setting(api, site, settings):
    settings.SITE_OFFLINE_AFTER = 300
    services.telemetry_record(
        site=site,
        payload={"reportedAt": format_time(timezone.now() - timedelta(seconds=301)), "assets": {}},
    )

    assert api.get(f"{V1}/sites").json()["sites"][0]["isOnline"] is False


def test_v0_and_v1_answer_the_same(api, site):
    api.post(schedules_url(prefix=V0), {"schedules": doc_schedules()}, format="json")

    assert api.get(f"{V0}/sites").json() == api.get(f"{V1}/sites").json()
    assert api.get(f"{V0}/sites/{DOC_SITE_ID}").json() == api.get(f"{V1}/sites/{DOC_SITE_ID}").json()


def test_schedules_list_only_entries_that_have_not_ended(api, site):
    now = timezone.now()
    hours = [(-3, -1, 1), (-1, 1, 2), (1, 2, 3)]
    entries = [
        {
            "startAt": format_time(now + timedelta(hours=start)),
            "endAt": format_time(now + timedelta(hours=end)),
            "value": value,
        }
        for start, end, value in hours
    ]
    api.post(
        schedules_url(),
        {"schedules": [{"asset": "grid", "type": "activePowerkW", "entries": entries}]},
        format="json",
    )

    [command] = api.get(f"{V1}/sites").json()["sites"][0]["schedules"]

    assert [entry["value"] for entry in command["entries"]] == [2, 3]


def test_a_later_command_replaces_the_future_schedule_of_its_asset_and_type(api, site):
    api.post(schedules_url(), {"schedules": doc_schedules()}, format="json")
    replacement = {"asset": "grid", "type": "upperLimitkW", "entries": [
        {"startAt": "2030-07-01T00:00:00Z", "endAt": "2030-07-01T01:00:00Z", "value": 40},
    ]}  # fmt: skip

    response = api.post(schedules_url(), {"schedules": [replacement]}, format="json")

    assert response.json()["accepted"] == 1
    schedules = api.get(f"{V1}/sites").json()["sites"][0]["schedules"]
    assert schedules[0] == replacement
    assert len(schedules) == 6  # the other five are untouched


def test_an_empty_entries_list_clears_that_schedule(api, site):
    api.post(schedules_url(), {"schedules": doc_schedules()}, format="json")

    response = api.post(
        schedules_url(),
        {"schedules": [{"asset": "solar", "type": "solarCurtailmentPcnt", "entries": []}]},
        format="json",
    )

    assert response.status_code == 202
    assert response.json()["accepted"] == 0
    schedules = api.get(f"{V1}/sites").json()["sites"][0]["schedules"]
    assert ("solar", "solarCurtailmentPcnt") not in {(s["asset"], s["type"]) for s in schedules}
    assert len(schedules) == 5


@pytest.mark.parametrize(
    ("sent", "cleared"), [("activePowerkW", "optimalSocPcnt"), ("optimalSocPcnt", "activePowerkW")]
)
def test_a_bess_command_clears_the_other_bess_schedule_of_earlier_batches(api, site, sent, cleared):
    api.post(schedules_url(), {"schedules": doc_schedules()}, format="json")
    entry = {"startAt": "2030-08-01T00:00:00Z", "endAt": "2030-08-01T01:00:00Z", "value": 50}

    api.post(
        schedules_url(), {"schedules": [{"asset": "bess", "type": sent, "entries": [entry]}]}, format="json"
    )

    bess = [s for s in api.get(f"{V1}/sites").json()["sites"][0]["schedules"] if s["asset"] == "bess"]
    assert bess == [{"asset": "bess", "type": sent, "entries": [entry]}]
    assert cleared not in {s["type"] for s in bess}


# --- Keys ---------------------------------------------------------------------------------------


def unauthorized(response, message_part: str) -> None:
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "unauthorized"
    assert message_part in body["message"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_missing_authorization_header_is_unauthorized(site):
    unauthorized(APIClient().get(f"{V1}/sites"), "Missing API key")


@pytest.mark.parametrize(
    "header",
    [
        "agk_abcdefabcdef.ags_" + "x" * 40,  # no scheme
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-key",
        "Bearer agk_short.ags_short",
        "Bearer hdt_abcdefabcdef." + "x" * 40,  # a device token is not an API key
    ],
)
def test_a_malformed_key_is_unauthorized(site, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    unauthorized(client.get(f"{V1}/sites"), "Malformed API key")


def test_an_unknown_key_is_unauthorized(site):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer agk_abcdefabcdef.ags_" + "x" * 40)
    unauthorized(client.get(f"{V1}/sites"), "Invalid API key")


def test_a_wrong_secret_is_unauthorized(api, site):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api.key_value[:-1]}{'A' if api.key_value[-1] != 'A' else 'B'}"
    )

    unauthorized(client.get(f"{V1}/sites"), "Invalid API key")


def test_a_revoked_key_is_refused_on_the_next_request(api, site):
    assert api.get(f"{V1}/sites").status_code == 200

    services.api_key_revoke(api_key=api.key)

    unauthorized(api.get(f"{V1}/sites"), "Invalid API key")
    unauthorized(api.post(schedules_url(), {"schedules": doc_schedules()}, format="json"), "Invalid API key")
    assert ScheduleBatch.objects.count() == 0


def test_an_expired_key_is_unauthorized(group, site):
    client = key_client(group, expires_at=timezone.now() + timedelta(seconds=30))
    assert client.get(f"{V1}/sites").status_code == 200
    client.key.__class__.objects.filter(pk=client.key.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    # A change made behind the services' back reaches a server process within
    # CREDENTIAL_CACHE_SECONDS; the test does not wait that second.
    credential_cache_clear()

    unauthorized(client.get(f"{V1}/sites"), "Invalid API key")


def test_a_key_of_another_group_sees_none_of_this_groups_sites(site, other_group):
    stranger = key_client(other_group)
    services.site_create(access_group=other_group, name="Their site")

    listed = stranger.get(f"{V1}/sites").json()["sites"]
    detail = stranger.get(f"{V1}/sites/{DOC_SITE_ID}")
    post = stranger.post(schedules_url(), {"schedules": doc_schedules()}, format="json")

    assert [s["siteName"] for s in listed] == ["Their site"]
    assert detail.status_code == 404 and detail.json() == {"error": "not_found", "message": "Site not found"}
    assert post.status_code == 404
    assert ScheduleBatch.objects.count() == 0


@pytest.mark.parametrize("site_id", [uuid.uuid4(), "not-a-uuid"])
def test_an_unknown_site_is_not_found(api, site, site_id):
    response = api.get(f"{V1}/sites/{site_id}")

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Site not found"}


def test_last_used_time_is_recorded(api, site):
    api.get(f"{V1}/sites")

    api.key.refresh_from_db()
    assert api.key.last_used_at is not None


# --- Health and rate limiting ---------------------------------------------------------------------


@pytest.mark.parametrize("prefix", [V1, V0])
def test_health_answers_204_without_a_key(db, prefix):
    response = APIClient().get(f"{prefix}/health")

    assert response.status_code == 204
    assert response.content == b""


def test_health_answers_503_when_the_database_does_not(db, monkeypatch):
    from django.db import DatabaseError

    def broken_cursor(*args, **kwargs):
        raise DatabaseError("down")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "cursor", broken_cursor)
        response = APIClient().get(f"{V1}/health")

    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(api, group, site, settings):
    settings.SITES_API_RATE_LIMIT = 3
    settings.SITES_API_RATE_WINDOW = 60
    for _ in range(3):
        assert api.get(f"{V1}/sites").status_code == 200

    response = api.get(f"{V1}/sites")

    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert key_client(group, name="another").get(f"{V1}/sites").status_code == 200  # per key
    assert APIClient().get(f"{V1}/health").status_code == 204  # health is never limited


# --- Query counts ---------------------------------------------------------------------------------


def make_sites(group, count: int) -> None:
    """``count`` sites with the document's schedules, written in bulk."""
    for index in range(count):
        site, _token = services.site_create(access_group=group, name=f"Site {index:04d}")
        services.schedule_batch_apply(site=site, commands=doc_schedules(), sent_by="test")


def get_queries(client) -> tuple[int, int]:
    """Queries of GET /sites with an empty fragment cache, then with a warm one."""
    from sites_app.api.outputs import fragment_cache

    client.get(f"{V1}/sites")  # records last_used_at once
    fragment_cache.clear()
    with CaptureQueriesContext(connection) as cold:
        assert client.get(f"{V1}/sites").status_code == 200
    with CaptureQueriesContext(connection) as warm:
        response = client.get(f"{V1}/sites")
    return len(cold), len(warm), len(response.json()["sites"])


@pytest.mark.django_db
def test_listing_sites_costs_the_same_queries_for_10_and_1000_sites(settings):
    settings.CREDENTIAL_CACHE_SECONDS = 0  # the key's lookup counted too, as on a process's first request

    small, large = AccessGroupFactory(name="small"), AccessGroupFactory(name="large")
    make_sites(small, 10)
    make_sites(large, 1000)

    small_cold, small_warm, small_count = get_queries(key_client(small))
    large_cold, large_warm, large_count = get_queries(key_client(large))

    assert (small_count, large_count) == (10, 1000)
    assert small_cold == large_cold == 4  # key, site keys, then for the stale ones: sites, entries
    assert small_warm == large_warm == 2  # key, sites (fragments cached by revision)


def test_a_schedule_batch_is_seen_at_once_by_a_warm_list(api, site):
    assert api.get(f"{V1}/sites").json()["sites"][0]["schedules"] == []

    api.post(schedules_url(), {"schedules": doc_schedules()}, format="json")

    assert api.get(f"{V1}/sites").json()["sites"][0]["schedules"] == doc_schedules()


def test_asset_rows_are_untouched_by_a_rejected_batch(api, site):
    before = list(Asset.objects.order_by("pk").values())
    api.post(schedules_url(), {"schedules": []}, format="json")
    assert list(Asset.objects.order_by("pk").values()) == before


def test_a_site_renamed_in_the_admin_is_listed_with_its_new_name(api, site, admin_client):
    assert api.get(f"{V1}/sites").json()["sites"][0]["siteName"] == "Site 1"

    response = admin_client.post(
        f"/admin/sites_app/site/{site.pk}/change/",
        {
            "name": "Harbour",
            "access_group": site.access_group.pk,
            "assets-TOTAL_FORMS": "0",
            "assets-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    assert api.get(f"{V1}/sites").json()["sites"][0]["siteName"] == "Harbour"


def test_the_cached_list_follows_the_clock(api, site, settings):
    """Cached bodies stay true only until an entry ends or the site goes offline."""
    import json

    from sites_app.api.views import site_list_body

    settings.SITE_OFFLINE_AFTER = 300
    report_now(site)
    now = timezone.now()
    entries = [
        {
            "startAt": format_time(now + timedelta(minutes=start)),
            "endAt": format_time(now + timedelta(minutes=end)),
            "value": end,
        }
        for start, end in [(0, 10), (10, 20)]
    ]
    services.schedule_batch_apply(
        site=site, commands=[{"asset": "grid", "type": "activePowerkW", "entries": entries}]
    )

    def listed(at):
        [row] = json.loads(site_list_body(access_group_id=site.access_group_id, now=at))["sites"]
        return row["isOnline"], [entry["value"] for s in row["schedules"] for entry in s["entries"]]

    assert listed(now) == (True, [10, 20])
    assert listed(now) == (True, [10, 20])  # from the cache
    assert listed(now + timedelta(minutes=6)) == (False, [10, 20])
    assert listed(now + timedelta(minutes=11)) == (False, [20])
    assert listed(now + timedelta(minutes=21)) == (False, [])


def test_a_warm_list_rerenders_only_what_changed_in_constant_queries(api, group, settings):
    settings.CREDENTIAL_CACHE_SECONDS = 0  # the key's lookup counted too
    for index in range(5):
        services.site_create(access_group=group, name=f"Site {index}")
    api.get(f"{V1}/sites")
    changed = group.sites.order_by("name")[2]

    report_now(changed, grid={"activePowerkW": 7})
    with CaptureQueriesContext(connection) as queries:
        listed = api.get(f"{V1}/sites").json()["sites"]

    assert len(queries) == 4  # key, site keys, the changed site, its entries
    assert [s["isOnline"] for s in listed] == [False, False, True, False, False]
