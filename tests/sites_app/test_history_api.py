"""GET /sites/{siteId}/telemetry (issue 14): the public API's history endpoint, as JSON and CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from sites_app import services
from sites_app.models import AssetType, TelemetryReport
from tests.sites_app.helpers import DOC_SITE_ID, key_client

V1 = "/api/v1/public"
V0 = "/api/v0/public"
URL = f"{V1}/sites/{DOC_SITE_ID}/telemetry"
RANGE = {"from": "2026-06-01T08:00:00Z", "to": "2026-06-01T10:00:00Z"}
ASSETS = ("grid", "solar", "bess", "ev", "heatpump", "genset", "load")  # the standard set, in order


def at(clock: str) -> datetime:
    """2026-06-01 at ``clock`` (HH:MM:SS), UTC."""
    return datetime.fromisoformat(f"2026-06-01T{clock}+00:00")


def report(site, moment: datetime, grid=None, bess=None, soc=None, capacity=None) -> TelemetryReport:
    return TelemetryReport(
        site=site,
        reported_at=moment,
        grid_kw=grid,
        bess_kw=bess,
        bess_soc_pcnt=soc,
        bess_available_kwh=capacity,
    )


@pytest.fixture
def history(site, group):
    """Six reports in the range (two in one 5-minute bucket, four in one quarter hour, five in
    one hour), one just before it, one at its (excluded) end, and another site's at its start."""
    other, _token = services.site_create(access_group=group, name="Site 2")
    TelemetryReport.objects.bulk_create(
        [
            report(site, at("07:59:59"), grid=999, bess=999, soc=99, capacity=999),
            report(site, at("08:00:00"), grid=10, bess=4, soc=50, capacity=250),
            report(site, at("08:01:00"), grid=15, soc=50.5),
            report(site, at("08:05:00"), grid=20, bess=6, soc=51, capacity=255),
            report(site, at("08:14:59"), grid=31, bess=8, soc=52),
            report(site, at("08:15:00"), grid=40, bess=-2, soc=60, capacity=300),
            report(site, at("09:10:00"), grid=5, bess=1, soc=70, capacity=350),
            report(site, at("10:00:00"), grid=777, bess=777, soc=77, capacity=777),
            report(other, at("08:00:00"), grid=555, bess=555, soc=55, capacity=555),
        ]
    )


def point(clock: str, grid, bess, soc, capacity) -> dict:
    """A point of the standard site: only grid and BESS reported, the others null."""
    assets: dict = {asset: {"activePowerkW": None} for asset in ASSETS}
    assets["grid"] = {"activePowerkW": grid}
    assets["bess"] = {"activePowerkW": bess, "soc": soc, "availableStorageCapacitykWh": capacity}
    return {"t": f"2026-06-01T{clock}Z", "assets": assets}


EXPECTED = {
    "raw": [
        point("08:00:00", 10, 4, 50, 250),
        point("08:01:00", 15, None, 50.5, None),
        point("08:05:00", 20, 6, 51, 255),
        point("08:14:59", 31, 8, 52, None),
        point("08:15:00", 40, -2, 60, 300),
        point("09:10:00", 5, 1, 70, 350),
    ],
    # Power: the mean of the reports that gave one; SoC and capacity: the last value given.
    "5m": [
        point("08:00:00", 12.5, 4, 50.5, 250),
        point("08:05:00", 20, 6, 51, 255),
        point("08:10:00", 31, 8, 52, None),
        point("08:15:00", 40, -2, 60, 300),
        point("09:10:00", 5, 1, 70, 350),
    ],
    "15m": [
        point("08:00:00", 19, 6, 52, 255),  # (10+15+20+31)/4, (4+6+8)/3
        point("08:15:00", 40, -2, 60, 300),
        point("09:00:00", 5, 1, 70, 350),
    ],
    "1h": [
        point("08:00:00", 23.2, 4, 60, 300),  # (10+15+20+31+40)/5, (4+6+8-2)/4
        point("09:00:00", 5, 1, 70, 350),
    ],
}


# --- JSON ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("resolution", ["raw", "5m", "15m", "1h"])
def test_each_resolution_averages_power_and_keeps_the_last_soc(api, history, resolution):
    response = api.get(URL, {**RANGE, "resolution": resolution})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "siteId": str(DOC_SITE_ID),
        "from": "2026-06-01T08:00:00Z",
        "to": "2026-06-01T10:00:00Z",
        "resolution": resolution,
        "points": EXPECTED[resolution],
    }


def test_whole_numbers_are_integers_as_elsewhere_in_the_api(api, history):
    body = api.get(URL, {**RANGE, "resolution": "15m"}).content

    assert b'"grid":{"activePowerkW":19}' in body


def test_the_resolution_defaults_to_15_minutes_and_v0_answers_the_same(api, history):
    v1 = api.get(URL, RANGE)
    v0 = api.get(f"{V0}/sites/{DOC_SITE_ID}/telemetry", RANGE)

    assert v1.json()["resolution"] == "15m"
    assert v1.json()["points"] == EXPECTED["15m"]
    assert v0.json() == v1.json()


def test_times_with_an_offset_are_read_as_such_even_with_an_unencoded_plus(api, history):
    # 10:00+02:00 is 08:00Z; "+" unencoded in a query string arrives as a space.
    response = api.get(f"{URL}?from=2026-06-01T10:00:00+02:00&to=2026-06-01T10:15:00%2B02:00&resolution=raw")

    body = response.json()
    assert response.status_code == 200, body
    assert (body["from"], body["to"]) == ("2026-06-01T08:00:00Z", "2026-06-01T08:15:00Z")
    assert [p["t"] for p in body["points"]] == [p["t"] for p in EXPECTED["raw"][:4]]


def test_without_a_range_the_last_24_hours_are_answered(api, site):
    now = timezone.now()
    TelemetryReport.objects.bulk_create(
        [report(site, now - timedelta(hours=25), grid=1), report(site, now - timedelta(hours=1), grid=2)]
    )

    body = api.get(URL, {"resolution": "raw"}).json()

    start, end = (datetime.fromisoformat(body[key]) for key in ("from", "to"))
    assert end - start == timedelta(hours=24)
    assert end.microsecond == 0 and abs(end - now) < timedelta(seconds=5)
    assert [p["assets"]["grid"]["activePowerkW"] for p in body["points"]] == [2]


def test_only_the_sites_own_assets_are_listed(api, group):
    site, _token = services.site_create(
        access_group=group,
        name="Small",
        assets=((AssetType.LOAD, 100, 0, None), (AssetType.GRID, 50, -50, None)),
    )
    TelemetryReport.objects.bulk_create([report(site, at("08:00:00"), grid=3)])

    body = api.get(f"{V1}/sites/{site.pk}/telemetry", RANGE).json()

    assert body["points"] == [
        {
            "t": "2026-06-01T08:00:00Z",
            "assets": {"grid": {"activePowerkW": 3}, "load": {"activePowerkW": None}},
        }
    ]


def test_a_range_without_reports_has_no_points(api, history):
    body = api.get(URL, {"from": "2026-06-02T00:00:00Z", "to": "2026-06-03T00:00:00Z"}).json()

    assert body["points"] == []


# --- CSV ----------------------------------------------------------------------------------------

HEADER = (
    "t,grid_activePowerkW,solar_activePowerkW,bess_activePowerkW,ev_activePowerkW,heatpump_activePowerkW,"
    "genset_activePowerkW,load_activePowerkW,bess_soc,bess_availableStorageCapacitykWh"
)


def csv_text(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


def test_format_csv_streams_the_same_points_as_csv(api, history):
    response = api.get(URL, {**RANGE, "format": "csv"})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="telemetry-{DOC_SITE_ID}-20260601T080000Z-20260601T100000Z-15m.csv"'
    )
    assert csv_text(response) == (
        f"{HEADER}\r\n"
        "2026-06-01T08:00:00Z,19,,6,,,,,52,255\r\n"
        "2026-06-01T08:15:00Z,40,,-2,,,,,60,300\r\n"
        "2026-06-01T09:00:00Z,5,,1,,,,,70,350\r\n"
    )


@pytest.mark.parametrize("resolution", ["raw", "5m", "15m", "1h"])
def test_csv_rows_match_the_json_points(api, history, resolution):
    params = {**RANGE, "resolution": resolution}
    points = api.get(URL, params).json()["points"]

    rows = list(csv.DictReader(io.StringIO(csv_text(api.get(URL, {**params, "format": "csv"})))))

    assert len(rows) == len(points)
    for row, json_point in zip(rows, points, strict=True):
        assert row["t"] == json_point["t"]
        bess = json_point["assets"]["bess"]
        assert row["grid_activePowerkW"] == str(json_point["assets"]["grid"]["activePowerkW"])
        assert row["bess_soc"] == str(bess["soc"])
        assert row["bess_availableStorageCapacitykWh"] == (
            "" if bess["availableStorageCapacitykWh"] is None else str(bess["availableStorageCapacitykWh"])
        )


@pytest.mark.parametrize(
    ("headers", "params", "is_csv"),
    [
        ({"HTTP_ACCEPT": "text/csv"}, {}, True),
        ({"HTTP_ACCEPT": "text/csv, application/json;q=0.5"}, {}, True),
        ({"HTTP_ACCEPT": "application/json, text/csv;q=0.5"}, {}, False),
        ({"HTTP_ACCEPT": "*/*"}, {}, False),
        ({}, {}, False),
        ({"HTTP_ACCEPT": "text/csv"}, {"format": "json"}, False),  # the parameter wins
        ({"HTTP_ACCEPT": "application/json"}, {"format": "csv"}, True),
    ],
)
def test_accept_text_csv_chooses_csv_unless_format_says_otherwise(api, history, headers, params, is_csv):
    response = api.get(URL, {**RANGE, **params}, **headers)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv" if is_csv else "application/json")
    assert response["Vary"] == "Accept"


def test_an_empty_csv_has_the_header_of_the_sites_assets(api, site):
    response = api.get(URL, {"from": "2026-06-02T00:00:00Z", "to": "2026-06-03T00:00:00Z", "format": "csv"})

    assert csv_text(response) == f"{HEADER}\r\n"


def test_a_long_csv_comes_in_several_chunks(api, site):
    TelemetryReport.objects.bulk_create(
        [report(site, at("08:00:00") + timedelta(seconds=second), grid=second) for second in range(1200)]
    )

    response = api.get(URL, {**RANGE, "resolution": "raw", "format": "csv"})

    chunks = list(response.streaming_content)
    assert len(chunks) == 3  # 500 lines each: the header and 1,200 rows
    lines = b"".join(chunks).decode().splitlines()
    assert len(lines) == 1201 and lines[-1].startswith("2026-06-01T08:19:59Z,1199,")


# --- Parameters and ranges ------------------------------------------------------------------------

NOT_A_TIME = "must be an ISO 8601 date-time with a time zone, e.g. 2026-06-01T00:00:00Z."


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "yesterday"}, "from", f"from {NOT_A_TIME}"),
        ({"to": "2026-06-01T10:00:00"}, "to", f"to {NOT_A_TIME}"),  # no time zone
        ({"from": "2026-13-01T00:00:00Z"}, "from", f"from {NOT_A_TIME}"),
        ({"resolution": "10m"}, "resolution", "resolution must be one of raw, 5m, 15m, 1h."),
        ({"format": "xml"}, "format", "format must be one of json, csv."),
        ({"from": "2026-06-01T10:00:00Z", "to": "2026-06-01T10:00:00Z"}, "to", "to must be later than from."),
        ({"from": "2026-06-01T11:00:00Z", "to": "2026-06-01T10:00:00Z"}, "to", "to must be later than from."),
    ],
)
def test_a_parameter_that_does_not_parse_or_an_empty_range_is_a_400(api, site, params, field, message):
    response = api.get(URL, {**RANGE, **params})

    assert response.status_code == 400
    assert response.json() == {
        "error": "validation_error",
        "message": f"{field}: {message}",
        "details": [{"field": field, "message": message}],
    }


def test_every_problem_of_the_parameters_is_named_at_once(api, site):
    response = api.get(URL, {"from": "soon", "to": "later", "resolution": "1d", "format": "pdf"})

    assert response.status_code == 400
    assert [item["field"] for item in response.json()["details"]] == ["from", "to", "resolution", "format"]


@pytest.mark.parametrize(
    ("resolution", "days", "status"),
    [("raw", 7, 200), ("raw", 8, 400), ("5m", 92, 200), ("15m", 93, 400), ("1h", 92, 200), ("1h", 93, 400)],
)
def test_ranges_are_limited_to_the_documented_maximum(api, site, resolution, days, status):
    end = datetime(2026, 6, 1, tzinfo=UTC)
    params = {
        "from": (end - timedelta(days=days)).isoformat(),
        "to": end.isoformat(),
        "resolution": resolution,
    }

    response = api.get(URL, params)

    assert response.status_code == status
    if status == 400:
        [problem] = response.json()["details"]
        assert problem["field"] == "to"
        assert problem["message"].startswith(
            f"The range may span at most {7 if resolution == 'raw' else 92} days at {resolution} resolution"
        )


def test_the_maximum_is_a_setting(api, site, settings):
    settings.SITES_HISTORY_MAX_DAYS = 1

    response = api.get(URL, {"from": "2026-06-01T00:00:00Z", "to": "2026-06-02T00:00:01Z"})

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"to": "0001-01-01T00:00:00Z"}, 400),  # nothing before it: an empty range
        ({"to": "0001-01-01T12:00:00Z"}, 200),
        ({"from": "9999-12-31T00:00:00Z", "to": "9999-12-31T23:59:59Z", "format": "csv"}, 200),
        ({"from": "0001-01-01T00:00:00+01:00"}, 400),  # before year 1 in UTC
    ],
)
def test_the_ends_of_the_calendar_are_answered_not_crashed_on(api, site, params, status):
    assert api.get(URL, params).status_code == status


def test_empty_values_are_refused_as_the_schema_says(api, site):
    response = api.get(f"{URL}?from=&to=&resolution=&format=")

    assert response.status_code == 400
    assert [item["field"] for item in response.json()["details"]] == ["from", "to", "resolution", "format"]


# --- Keys, sites, rate limits ---------------------------------------------------------------------


def test_a_missing_key_is_unauthorized(site):
    response = APIClient().get(URL, RANGE)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthorized"
    assert response.json()["message"].startswith("Missing API key")


def test_a_revoked_key_is_unauthorized(api, site):
    services.api_key_revoke(api_key=api.key)

    response = api.get(URL, RANGE)

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid API key: unknown, revoked or expired."


def test_another_groups_site_is_not_found_never_forbidden(history, other_group):
    stranger = key_client(other_group)

    for params in (RANGE, {**RANGE, "format": "csv"}, {"resolution": "bad"}):  # 404 whatever the query
        response = stranger.get(URL, params)
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "message": "Site not found"}


@pytest.mark.parametrize("site_id", ["123e4567-e89b-12d3-a456-000000000000", "not-a-uuid"])
def test_an_unknown_or_malformed_site_id_is_not_found(api, site, site_id):
    response = api.get(f"{V1}/sites/{site_id}/telemetry", RANGE)

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Site not found"}


def test_the_key_rate_limit_counts_history_requests_with_the_others(api, site, settings):
    settings.SITES_API_RATE_LIMIT = 2
    assert api.get(f"{V1}/sites").status_code == 200
    assert api.get(URL, RANGE).status_code == 200

    response = api.get(URL, RANGE)

    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1


# --- Queries --------------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"format": "csv"}])
def test_a_day_costs_three_queries_whatever_the_number_of_reports(api, site, params):
    day = {"from": "2026-06-01T00:00:00Z", "to": "2026-06-02T00:00:00Z", **params}
    api.get(URL, day)  # the key's lookup and last-used time, once

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = api.get(URL, day)
            assert response.status_code == 200
            if response.streaming:
                b"".join(response.streaming_content)
        return len(captured)

    TelemetryReport.objects.bulk_create([report(site, at("00:00:00"), grid=1, soc=50)])
    one = queries()
    TelemetryReport.objects.bulk_create(
        [report(site, at("00:00:00") + timedelta(minutes=m), grid=m, soc=50) for m in range(1, 1440)]
    )
    many = queries()

    assert one == many == 3  # the site, its assets, its reports (the CSV's header from the first point)


def test_an_empty_csv_reads_the_assets_once_more_for_its_header(api, site):
    empty = {"from": "2026-06-01T00:00:00Z", "to": "2026-06-02T00:00:00Z", "format": "csv"}
    api.get(URL, empty)

    with CaptureQueriesContext(connection) as captured:
        b"".join(api.get(URL, empty).streaming_content)

    assert len(captured) == 4
