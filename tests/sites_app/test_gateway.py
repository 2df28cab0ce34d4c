"""The gateway API: telemetry in (never back in time, bad reports change nothing), schedules out
(with an ETag), acknowledgements of applied batches. Telemetry history: test_history_ingest.py."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from sites_app import services
from sites_app.api.outputs import format_time
from sites_app.models import Asset, ScheduleBatch, Site
from tests.sites_app.helpers import DOC_SITE_ID, doc_schedules

TELEMETRY = "/api/v1/gateway/telemetry"
POWER = "activePowerkW"


def iso(moment) -> str:
    return format_time(moment)


def state(site) -> tuple:
    site = Site.objects.get(pk=site.pk)
    return site.reported_at, site.revision, list(Asset.objects.filter(site=site).order_by("pk").values())


def test_telemetry_updates_what_the_public_api_reports(gateway, api, site):
    reported_at = timezone.now().replace(microsecond=0)

    response = gateway.post(
        TELEMETRY,
        {
            "reportedAt": iso(reported_at),
            "assets": {
                "grid": {"activePowerkW": 120},
                "bess": {"activePowerkW": -30.5, "soc": 75, "availableStorageCapacitykWh": 410},
            },
        },
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {"applied": True, "reportedAt": iso(reported_at)}
    detail = api.get(f"/api/v1/public/sites/{DOC_SITE_ID}").json()
    assert detail["isOnline"] is True
    assert detail["reportedAt"] == iso(reported_at)
    assert detail["assets"]["grid"]["activePowerkW"] == 120
    assert (detail["assets"]["bess"]["activePowerkW"], detail["assets"]["bess"]["soc"]) == (-30.5, 75)
    assert detail["assets"]["bess"]["availableStorageCapacitykWh"] == 410
    assert detail["assets"]["solar"]["activePowerkW"] is None  # not reported, not invented
    listed = api.get("/api/v1/public/sites").json()["sites"][0]
    assert (listed["isOnline"], listed["reportedAt"]) == (True, iso(reported_at))


def test_an_older_report_is_kept_out_of_the_current_state(gateway, site):
    now = timezone.now().replace(microsecond=0)
    gateway.post(
        TELEMETRY, {"reportedAt": iso(now), "assets": {"grid": {"activePowerkW": 120}}}, format="json"
    )
    before = state(site)

    response = gateway.post(
        TELEMETRY,
        {"reportedAt": iso(now - timedelta(minutes=1)), "assets": {"grid": {"activePowerkW": -5}}},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["applied"] is False
    assert response.json()["reportedAt"] == iso(now)
    assert state(site) == before


def test_a_report_with_the_same_time_is_applied_again(gateway, site):
    now = iso(timezone.now())
    gateway.post(TELEMETRY, {"reportedAt": now, "assets": {"grid": {"activePowerkW": 1}}}, format="json")

    response = gateway.post(
        TELEMETRY, {"reportedAt": now, "assets": {"grid": {"activePowerkW": 2}}}, format="json"
    )

    assert response.json()["applied"] is True
    assert Asset.objects.get(site=site, type="grid").active_power_kw == 2


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"assets": {"grid": {"activePowerkW": 1}}}, {"field": "reportedAt"}),
        ({"reportedAt": "yesterday", "assets": {}}, {"field": "reportedAt"}),
        ({"reportedAt": "2030-01-01T00:00:00Z", "assets": {}}, {"field": "reportedAt"}),
        ({"reportedAt": "NOW", "assets": "grid"}, {"field": "assets"}),
        ({"reportedAt": "NOW", "assets": {"wind": {"activePowerkW": 1}}}, {"asset": "wind"}),
        ({"reportedAt": "NOW", "assets": {"grid": {POWER: "120"}}}, {"asset": "grid", "field": POWER}),
        ({"reportedAt": "NOW", "assets": {"grid": {POWER: None}}}, {"asset": "grid", "field": POWER}),
        ({"reportedAt": "NOW", "assets": {"grid": {"soc": 50}}}, {"asset": "grid", "field": "soc"}),
        ({"reportedAt": "NOW", "assets": {"grid": {"voltage": 230}}}, {"asset": "grid", "field": "voltage"}),
        ({"reportedAt": "NOW", "assets": {"bess": {"soc": 101}}}, {"asset": "bess", "field": "soc"}),
        ({"reportedAt": "NOW", "assets": {"grid": 5}}, {"asset": "grid"}),
    ],
    ids=[
        "no-time", "bad-time", "future-time", "assets-not-object", "unknown-asset", "non-numeric",
        "null-value", "soc-on-grid", "unknown-field", "soc-over-100", "values-not-object",
    ],
)  # fmt: skip
def test_bad_telemetry_is_refused_and_changes_nothing(gateway, site, payload, detail):
    payload = {**payload}
    if payload.get("reportedAt") == "NOW":
        payload["reportedAt"] = iso(timezone.now())
    # A valid asset in the same report is not applied either.
    if isinstance(payload.get("assets"), dict):
        payload["assets"] = {"load": {"activePowerkW": 99}, **payload["assets"]}
    before = state(site)

    response = gateway.post(TELEMETRY, payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "validation_error"
    assert any(detail.items() <= item.items() for item in body["details"]), body
    assert state(site) == before


def test_an_asset_the_site_does_not_have_is_refused(gateway, site):
    Asset.objects.filter(site=site, type="genset").delete()

    response = gateway.post(
        TELEMETRY,
        {"reportedAt": iso(timezone.now()), "assets": {"genset": {"activePowerkW": 1}}},
        format="json",
    )

    assert response.status_code == 400
    assert "Unknown asset 'genset'" in response.json()["details"][0]["message"]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Missing device token"),
        ("Bearer hdt_abc", "Malformed device token"),
        ("Bearer hdt_abcdefabcdef." + "x" * 40, "Invalid device token"),
    ],
)
def test_a_wrong_device_token_is_refused_and_changes_nothing(site, header, message):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    before = state(site)

    response = client.post(
        TELEMETRY,
        {"reportedAt": iso(timezone.now()), "assets": {"grid": {"activePowerkW": 1}}},
        format="json",
    )

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert message in response.json()["message"]
    assert state(site) == before


def test_an_api_key_is_not_a_device_token(api, site):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.key_value}")

    assert client.get("/api/v1/gateway/schedules").status_code == 401


def test_a_rotated_token_stops_working_and_the_new_one_works(gateway, site):
    new_token = services.device_token_rotate(site=site)

    assert gateway.get("/api/v1/gateway/schedules").status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {new_token}")
    assert client.get("/api/v1/gateway/schedules").status_code == 200


def test_the_gateway_pulls_its_current_schedules_with_batch_ids(gateway, api, site):
    first = api.post(
        f"/api/v1/public/sites/{DOC_SITE_ID}/schedules", {"schedules": doc_schedules()}, format="json"
    )
    second = api.post(
        f"/api/v1/public/sites/{DOC_SITE_ID}/schedules",
        {"schedules": [doc_schedules("2030-07-01")[0]]},
        format="json",
    )

    response = gateway.get("/api/v1/gateway/schedules")

    assert response.status_code == 200
    body = response.json()
    assert body["siteId"] == str(DOC_SITE_ID)
    batch_ids = {(s["asset"], s["type"]): s["batchId"] for s in body["schedules"]}
    assert batch_ids.pop(("grid", "upperLimitkW")) == second.json()["batchId"]
    assert set(batch_ids.values()) == {first.json()["batchId"]}
    assert [{k: v for k, v in s.items() if k != "batchId"} for s in body["schedules"]] == (
        [doc_schedules("2030-07-01")[0], *doc_schedules()[1:]]
    )


def test_the_gateway_reads_its_site(gateway, site):
    body = gateway.get("/api/v1/gateway/site").json()

    assert body["siteId"] == str(DOC_SITE_ID)
    assert set(body["assets"]) == {"grid", "solar", "bess", "ev", "heatpump", "genset", "load"}


def test_a_telemetry_body_over_the_upload_limit_is_a_413(gateway, site, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    before = state(site)

    response = gateway.post(
        TELEMETRY,
        {"reportedAt": iso(timezone.now()), "assets": {"grid": {"activePowerkW": 1}}, "pad": "x" * 2000},
        format="json",
    )

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert state(site) == before


# --- Schedules: ETag and 304, acknowledgements (issue 14) ---------------------------------------

SCHEDULES = "/api/v1/gateway/schedules"
ACK = "/api/v1/gateway/schedules/ack"


def send_batch(api, day=None) -> str:
    schedules = doc_schedules(day) if day else doc_schedules()
    response = api.post(
        f"/api/v1/public/sites/{DOC_SITE_ID}/schedules", {"schedules": schedules}, format="json"
    )
    return response.json()["batchId"]


def test_schedules_carry_an_etag_and_answer_304_while_it_is_current(gateway, api, site):
    send_batch(api)
    first = gateway.get(SCHEDULES)
    tag = first["ETag"]

    again = gateway.get(SCHEDULES, HTTP_IF_NONE_MATCH=tag)
    weak = gateway.get(SCHEDULES, HTTP_IF_NONE_MATCH=f'"other", W/{tag}')
    any_tag = gateway.get(SCHEDULES, HTTP_IF_NONE_MATCH="*")

    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", tag)
    assert weak.status_code == any_tag.status_code == 304
    assert gateway.get(SCHEDULES, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    assert gateway.get(SCHEDULES).json() == first.json()


def test_a_new_batch_changes_the_etag(gateway, api, site):
    send_batch(api)
    tag = gateway.get(SCHEDULES)["ETag"]

    send_batch(api, "2030-07-01")
    response = gateway.get(SCHEDULES, HTTP_IF_NONE_MATCH=tag)

    assert response.status_code == 200
    assert response["ETag"] != tag


def test_telemetry_leaves_the_etag_as_it_is(gateway, api, site):
    send_batch(api)
    tag = gateway.get(SCHEDULES)["ETag"]

    gateway.post(
        TELEMETRY, {"reportedAt": iso(timezone.now()), "assets": {"grid": {POWER: 1}}}, format="json"
    )

    assert gateway.get(SCHEDULES, HTTP_IF_NONE_MATCH=tag).status_code == 304


def test_an_acknowledgement_records_when_the_batch_was_applied(gateway, api, site):
    batch_id = send_batch(api)
    applied = timezone.now().replace(microsecond=0) - timedelta(seconds=5)

    response = gateway.post(ACK, {"batchId": batch_id, "appliedAt": iso(applied)}, format="json")

    assert response.status_code == 200
    batch = ScheduleBatch.objects.get(pk=batch_id)
    assert batch.applied_at == applied
    assert timezone.now() - batch.acknowledged_at < timedelta(seconds=10)
    assert response.json() == {
        "batchId": batch_id,
        "appliedAt": iso(applied),
        "acknowledgedAt": iso(batch.acknowledged_at),
    }


def test_the_history_of_changes_shows_the_acknowledgement_and_the_device_token(gateway, api, site):
    batch_id = send_batch(api)

    gateway.post(ACK, {"batchId": batch_id, "appliedAt": iso(timezone.now())}, format="json")

    entry = LogEntry.objects.get(content_type__model="schedulebatch", object_pk=batch_id)
    assert entry.action == LogEntry.Action.UPDATE
    assert set(entry.changes) == {"applied_at", "acknowledged_at"}
    assert entry.additional_data["via"] == "api"
    assert entry.additional_data["credential"].startswith("hdt_")


def test_a_repeated_acknowledgement_changes_nothing(gateway, api, site):
    batch_id = send_batch(api)
    first = gateway.post(ACK, {"batchId": batch_id, "appliedAt": iso(timezone.now())}, format="json")

    again = gateway.post(
        ACK, {"batchId": batch_id, "appliedAt": iso(timezone.now() + timedelta(seconds=30))}, format="json"
    )

    assert again.status_code == 200
    assert again.json() == first.json()
    assert LogEntry.objects.filter(content_type__model="schedulebatch").count() == 1


def test_another_sites_batch_is_not_found(gateway, other_group):
    other_site, _token = services.site_create(access_group=other_group, name="Elsewhere")
    batch = services.schedule_batch_apply(site=other_site, commands=doc_schedules(), sent_by="test")

    response = gateway.post(ACK, {"batchId": str(batch.id), "appliedAt": iso(timezone.now())}, format="json")

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Schedule batch not found"}
    assert ScheduleBatch.objects.get(pk=batch.id).acknowledged_at is None


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["batchId", "appliedAt"]),
        ({"batchId": "nope", "appliedAt": "NOW"}, ["batchId"]),
        ({"batchId": "BATCH", "appliedAt": "today"}, ["appliedAt"]),
        ({"batchId": "BATCH", "appliedAt": "2031-01-01T00:00:00Z"}, ["appliedAt"]),
        ({"batchId": 5, "appliedAt": None}, ["batchId", "appliedAt"]),
    ],
    ids=["empty", "bad-id", "bad-time", "future", "wrong-types"],
)
def test_a_bad_acknowledgement_is_refused(gateway, api, site, body, fields):
    batch_id = send_batch(api)
    body = {
        key: batch_id if value == "BATCH" else iso(timezone.now()) if value == "NOW" else value
        for key, value in body.items()
    }

    response = gateway.post(ACK, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    assert [item["field"] for item in response.json()["details"]] == fields
    assert ScheduleBatch.objects.get(pk=batch_id).acknowledged_at is None


def test_an_acknowledgement_that_is_not_an_object_is_refused(gateway, site):
    response = gateway.post(ACK, ["batch"], format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"


def test_a_304_costs_the_one_query_of_the_schedules(gateway, api, site):
    send_batch(api)
    tag = gateway.get(SCHEDULES)["ETag"]

    with CaptureQueriesContext(connection) as captured:
        response = gateway.get(SCHEDULES, HTTP_IF_NONE_MATCH=tag)

    assert response.status_code == 304
    assert len(captured) == 1, [query["sql"] for query in captured]
