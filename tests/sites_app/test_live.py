"""The document's examples against a running portal (uvicorn, ASGI), as a client would send them:
keys and sites from the management commands, a gateway reporting telemetry over HTTP."""

from io import StringIO

import httpx
from django.core.management import call_command
from django.utils import timezone

from sites_app import services
from sites_app.api.outputs import format_time
from sites_app.models import SiteApiKey
from tests.sites_app.helpers import DOC_SCHEDULES, doc_schedules


def command_output(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_documents_flow_against_a_running_portal(live_url, settings):
    key = command_output("create_site_api_key", "--group", "Utility A", "--name", "ops").strip()
    created = dict(
        line.split(":", 1)
        for line in command_output("create_site", "--group", "Utility A", "--name", "Site 1").splitlines()
    )
    site_id, device_token = created["site id"].strip(), created["device token"].strip()
    public = httpx.Client(base_url=f"{live_url}/api/v1/public", headers={"Authorization": f"Bearer {key}"})
    gateway = httpx.Client(
        base_url=f"{live_url}/api/v1/gateway", headers={"Authorization": f"Bearer {device_token}"}
    )

    assert httpx.get(f"{live_url}/api/v1/public/health").status_code == 204
    assert httpx.get(f"{live_url}/api/v0/public/health").status_code == 204

    reported = gateway.post(
        "/telemetry",
        json={"reportedAt": format_time(timezone.now()), "assets": {"grid": {"activePowerkW": 120}}},
    )
    assert reported.status_code == 200 and reported.json()["applied"] is True

    documented = public.post(f"/sites/{site_id}/schedules", json={"schedules": DOC_SCHEDULES})
    assert documented.status_code == 202
    assert documented.json()["accepted"] == 6
    upcoming = public.post(f"/sites/{site_id}/schedules", json={"schedules": doc_schedules()})
    assert upcoming.status_code == 202

    [site] = public.get("/sites").json()["sites"]
    assert (site["siteId"], site["siteName"], site["isOnline"]) == (site_id, "Site 1", True)
    assert site["schedules"] == doc_schedules()
    detail = public.get(f"/sites/{site_id}").json()
    assert detail["assets"]["grid"]["activePowerkW"] == 120
    pulled = gateway.get("/schedules").json()
    assert {s["batchId"] for s in pulled["schedules"]} == {upcoming.json()["batchId"]}

    rejected = public.post(f"/sites/{site_id}/schedules", json={"schedules": []})
    assert rejected.status_code == 400 and rejected.json()["error"] == "validation_error"

    services.api_key_revoke(api_key=SiteApiKey.objects.get(name="ops"))
    refused = public.get("/sites")
    assert refused.status_code == 401
    assert refused.json() == {
        "error": "unauthorized",
        "message": "Invalid API key: unknown, revoked or expired.",
    }
    assert httpx.get(f"{live_url}/api/v1/public/sites").json()["error"] == "unauthorized"
