"""The gateway API: telemetry in (never back in time, bad reports change nothing), schedules out."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sites_app import services
from sites_app.api.outputs import format_time
from sites_app.models import Asset, Site
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
