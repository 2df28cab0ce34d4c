"""Every validation rule of document 002 and CONTRACT §3: the violating batch is rejected whole
with 400 ``validation_error``, a ``details`` list naming each offending command and entry, and
nothing is stored (the schedule sent before stays as it was)."""

import copy

import pytest

from sites_app.models import Asset, AssetType, ScheduleBatch, ScheduleEntry
from tests.sites_app.helpers import DOC_SITE_ID, doc_schedules

URL = f"/api/v1/public/sites/{DOC_SITE_ID}/schedules"


def entry(start: str, end: str, value) -> dict:
    return {"startAt": f"2030-06-02T{start}:00Z", "endAt": f"2030-06-02T{end}:00Z", "value": value}


def command(asset: str, kind: str, *entries) -> dict:
    return {"asset": asset, "type": kind, "entries": list(entries)}


GOOD = command("grid", "activePowerkW", entry("08:00", "09:00", 10))


@pytest.fixture
def stored(api, site):
    """An earlier, valid batch: what must survive every rejected one."""
    assert api.post(URL, {"schedules": doc_schedules()}, format="json").status_code == 202
    return api.get(f"/api/v1/public/sites/{DOC_SITE_ID}").json()["schedules"]


def rejected(api, body, stored) -> list[dict]:
    """Send ``body``; check the rejection and that nothing changed; return the details."""
    batches, entries = ScheduleBatch.objects.count(), list(ScheduleEntry.objects.order_by("pk").values())

    response = api.post(URL, body, format="json")

    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["error"] == "validation_error"
    assert payload["message"]
    assert ScheduleBatch.objects.count() == batches
    assert list(ScheduleEntry.objects.order_by("pk").values()) == entries
    assert api.get(f"/api/v1/public/sites/{DOC_SITE_ID}").json()["schedules"] == stored
    return payload["details"]


def test_no_commands_is_rejected(api, stored):
    details = rejected(api, {"schedules": []}, stored)
    assert details[0]["field"] == "schedules"


def test_more_than_ten_commands_is_rejected(api, stored):
    details = rejected(api, {"schedules": [copy.deepcopy(GOOD) for _ in range(11)]}, stored)
    assert details[0]["field"] == "schedules"


@pytest.mark.parametrize("body", [{}, {"schedules": "grid"}, {"schedules": None}, [GOOD]])
def test_a_body_without_a_schedules_list_is_rejected(api, stored, body):
    assert rejected(api, body, stored)


@pytest.mark.parametrize(
    ("asset", "kind"),
    [
        ("solar", "activePowerkW"),
        ("grid", "optimalSocPcnt"),
        ("wind", "activePowerkW"),
        ("ev", "activePowerkW"),
    ],
)
def test_an_undocumented_asset_type_pair_is_rejected(api, stored, asset, kind):
    details = rejected(api, {"schedules": [GOOD, command(asset, kind, entry("08:00", "09:00", 1))]}, stored)
    assert details == [
        {"command": 1, "asset": asset, "type": kind, "message": details[0]["message"]},
    ]
    assert "Unsupported asset/type combination" in details[0]["message"]


def test_a_pair_sent_twice_is_rejected(api, stored):
    again = command("grid", "activePowerkW", entry("10:00", "11:00", 5))

    details = rejected(api, {"schedules": [GOOD, again]}, stored)

    assert details[0]["command"] == 1
    assert "more than once" in details[0]["message"]


def test_overlapping_entries_of_one_command_are_rejected(api, stored):
    overlapping = command(
        "grid",
        "upperLimitkW",
        entry("08:00", "10:00", 50),
        entry("12:00", "13:00", 50),
        entry("09:00", "11:00", 40),
    )

    details = rejected(api, {"schedules": [GOOD, overlapping]}, stored)

    assert details == [
        {
            "command": 1,
            "asset": "grid",
            "type": "upperLimitkW",
            "entry": 2,
            "overlapsEntry": 0,
            "message": "Entry overlaps entry 0 of the same command.",
        }
    ]


def test_entries_that_only_touch_do_not_overlap(api, stored):
    touching = command("grid", "upperLimitkW", entry("08:00", "09:00", 50), entry("09:00", "10:00", 40))

    assert api.post(URL, {"schedules": [touching]}, format="json").status_code == 202


@pytest.mark.parametrize(("start", "end"), [("09:00", "09:00"), ("10:00", "09:00")])
def test_an_entry_that_does_not_start_before_it_ends_is_rejected(api, stored, start, end):
    details = rejected(api, {"schedules": [command("grid", "activePowerkW", entry(start, end, 1))]}, stored)
    assert details == [
        {
            "command": 0,
            "asset": "grid",
            "type": "activePowerkW",
            "entry": 0,
            "field": "startAt",
            "message": "startAt must be before endAt.",
        }
    ]


@pytest.mark.parametrize(
    ("asset", "kind", "value"),
    [
        ("grid", "upperLimitkW", 501),
        ("grid", "lowerLimitkW", -500.5),
        ("grid", "activePowerkW", 10_000),
        ("bess", "activePowerkW", -101),
        ("bess", "activePowerkW", 100.01),
    ],
)
def test_a_power_value_outside_the_assets_rated_limits_is_rejected(api, stored, asset, kind, value):
    bad = command(asset, kind, entry("08:00", "09:00", 0), entry("09:00", "10:00", value))

    details = rejected(api, {"schedules": [bad]}, stored)

    assert [(d["command"], d["entry"], d["field"]) for d in details] == [(0, 1, "value")]
    assert "rated limits" in details[0]["message"]


def test_rated_limits_are_the_sites_own(api, site, stored):
    Asset.objects.filter(site=site, type=AssetType.GRID).update(rated_upper_kw=40)

    details = rejected(
        api, {"schedules": [command("grid", "upperLimitkW", entry("08:00", "09:00", 50))]}, stored
    )

    assert "(-500 to 40 kW)" in details[0]["message"]


@pytest.mark.parametrize(
    ("asset", "kind", "value"),
    [
        ("bess", "optimalSocPcnt", 101),
        ("bess", "optimalSocPcnt", -1),
        ("solar", "solarCurtailmentPcnt", 100.5),
    ],
)
def test_a_percentage_outside_0_to_100_is_rejected(api, stored, asset, kind, value):
    details = rejected(api, {"schedules": [command(asset, kind, entry("08:00", "09:00", value))]}, stored)
    assert [(d["command"], d["entry"], d["field"]) for d in details] == [(0, 0, "value")]


def test_bess_active_power_and_optimal_soc_overlapping_in_one_batch_is_rejected(api, stored):
    power = command("bess", "activePowerkW", entry("08:00", "10:00", -50))
    soc = command("bess", "optimalSocPcnt", entry("11:00", "12:00", 80), entry("09:30", "10:30", 60))

    details = rejected(api, {"schedules": [power, soc]}, stored)

    assert [(d["command"], d["type"], d["entry"]) for d in details] == [(1, "optimalSocPcnt", 1)]
    assert "mutually exclusive" in details[0]["message"]


def test_bess_active_power_and_optimal_soc_at_different_times_is_valid(api, stored):
    # The document's own example does this.
    power = command("bess", "activePowerkW", entry("08:00", "10:00", -50))
    soc = command("bess", "optimalSocPcnt", entry("10:00", "12:00", 80))

    response = api.post(URL, {"schedules": [power, soc]}, format="json")

    assert response.status_code == 202
    assert response.json()["accepted"] == 2


@pytest.mark.parametrize(
    ("bad_entry", "field"),
    [
        ({"endAt": "2030-06-02T09:00:00Z", "value": 1}, "startAt"),
        ({"startAt": "2030-06-02T08:00:00Z", "value": 1}, "endAt"),
        ({"startAt": "2030-06-02T08:00:00Z", "endAt": "2030-06-02T09:00:00Z"}, "value"),
        ({"startAt": "tomorrow", "endAt": "2030-06-02T09:00:00Z", "value": 1}, "startAt"),
        ({"startAt": "2030-06-02T08:00:00", "endAt": "2030-06-02T09:00:00Z", "value": 1}, "startAt"),
        ({"startAt": "2030-06-02T08:00:00Z", "endAt": "2030-06-02T09:00:00Z", "value": "50"}, "value"),
        ({"startAt": "2030-06-02T08:00:00Z", "endAt": "2030-06-02T09:00:00Z", "value": True}, "value"),
        ({"startAt": "2030-06-02T08:00:00Z", "endAt": "2030-06-02T09:00:00Z", "value": None}, "value"),
    ],
    ids=["no-start", "no-end", "no-value", "bad-time", "no-time-zone", "string-value", "bool-value", "null"],
)
def test_a_malformed_entry_is_rejected(api, stored, bad_entry, field):
    details = rejected(
        api, {"schedules": [{"asset": "grid", "type": "activePowerkW", "entries": [bad_entry]}]}, stored
    )
    assert [(d["command"], d["entry"], d["field"]) for d in details] == [(0, 0, field)]


@pytest.mark.parametrize("entries", [None, "none", {"startAt": "x"}])
def test_entries_that_are_not_a_list_are_rejected(api, stored, entries):
    details = rejected(
        api, {"schedules": [{"asset": "grid", "type": "activePowerkW", "entries": entries}]}, stored
    )
    assert details[0]["command"] == 0


def test_a_command_for_an_asset_the_site_does_not_have_is_rejected(api, site, stored):
    Asset.objects.filter(site=site, type=AssetType.SOLAR).delete()

    details = rejected(
        api, {"schedules": [command("solar", "solarCurtailmentPcnt", entry("08:00", "09:00", 10))]}, stored
    )

    assert details[0]["message"] == "This site has no solar asset."


def test_too_many_entries_in_one_command_is_rejected(api, stored, settings):
    settings.SITES_MAX_ENTRIES_PER_COMMAND = 2
    many = command(
        "grid",
        "activePowerkW",
        entry("08:00", "09:00", 1),
        entry("09:00", "10:00", 1),
        entry("10:00", "11:00", 1),
    )

    assert rejected(api, {"schedules": [many]}, stored)[0]["command"] == 0


def test_one_bad_command_rejects_the_whole_batch_and_every_problem_is_named(api, stored):
    body = {
        "schedules": [
            GOOD,
            command("grid", "upperLimitkW", entry("08:00", "09:00", 9999)),
            command(
                "solar", "solarCurtailmentPcnt", entry("08:00", "09:00", 10), entry("10:00", "09:00", 10)
            ),
        ]
    }

    details = rejected(api, body, stored)

    assert [(d["command"], d.get("entry")) for d in details] == [(1, 0), (2, 1)]


def test_malformed_json_is_a_validation_error(api, stored):
    response = api.post(URL, data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    assert ScheduleBatch.objects.count() == 1


def test_a_body_over_the_upload_limit_is_a_413_in_this_apis_shape(api, stored, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    entries = [{"startAt": "2030-06-02T08:00:00Z", "endAt": "2030-06-02T09:00:00Z", "value": 1}] * 500

    response = api.post(URL, {"schedules": [command("grid", "activePowerkW", *entries)]}, format="json")

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert ScheduleBatch.objects.count() == 1
