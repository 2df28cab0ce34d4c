"""The scenario runner's API against document 003: every endpoint, body and 4xx."""

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from scenarios_app.models import Dataset, Scenario
from tests.helpers import bearer_client
from tests.scenarios_app.helpers import API, create_scenario

pytestmark = pytest.mark.django_db

VALID = {"tag": "t", "dataset_key": "Master data", "algo_name": "Slow"}


def endpoint_queries(captured: CaptureQueriesContext) -> list[str]:
    """The queries an endpoint makes itself: not the bearer token's lookup (present or not,
    as the per-process credential cache holds it for a second), nor savepoints (there only
    because each test runs inside a transaction)."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if "accounts_accesstoken" not in query["sql"]
        and not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


# --- Global and authentication ----------------------------------------------------------------


def test_health_needs_no_token_and_names_the_sessions():
    response = APIClient().get(f"{API}/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "title": "HEAT Scenario Runner", "sessions": ["main"]}


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic dXNlcjpwdw=="])
def test_requests_without_a_valid_token_are_401(header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(f"{API}/sessions")

    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}
    assert response["WWW-Authenticate"] == "Bearer"


# --- Sessions ---------------------------------------------------------------------------------


def test_a_fresh_installation_has_main_with_master_data_and_slow(api):
    sessions = api.get(f"{API}/sessions").json()

    assert [row["display_name"] for row in sessions["sessions"]] == ["main"]
    assert sessions["default"] == sessions["sessions"][0]["id"]
    assert api.get(f"{API}/sessions/main/data").json() == {"keys": ["Master data"]}
    assert "Slow" in api.get(f"{API}/sessions/main/algorithms").json()["algorithms"]
    rows = Dataset.objects.get(key="Master data").tables["profile"]["rows"]
    assert len(rows) == 7 * 96  # a week at 15 minutes


def test_create_session_answers_the_refreshed_list(api, main):
    response = api.post(f"{API}/sessions", {"display_name": "study"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert [row["display_name"] for row in body["sessions"]] == ["main", "study"]
    assert body["default"] == str(main.pk)


def test_create_session_with_a_taken_name_is_409(api, main):
    response = api.post(f"{API}/sessions", {"display_name": "main"}, format="json")

    assert response.status_code == 409
    assert response.json() == {"detail": "A session with display name 'main' already exists."}


@pytest.mark.parametrize(
    ("body", "kind"),
    [({}, "missing"), ({"display_name": ""}, "string_too_short"), ({"display_name": 3}, "string_type")],
)
def test_create_session_without_a_display_name_is_422(api, main, body, kind):
    response = api.post(f"{API}/sessions", body, format="json")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == kind
    assert error["loc"] == ["body", "display_name"]
    assert set(error) >= {"type", "loc", "msg", "input"}


def test_malformed_json_is_422(api, main):
    response = api.post(f"{API}/sessions", "{nope", content_type="application/json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_session_is_addressed_by_uuid_or_display_name(api, main):
    by_uuid = api.get(f"{API}/sessions/{main.pk}/data")
    by_name = api.get(f"{API}/sessions/main/data")

    assert by_uuid.status_code == by_name.status_code == 200
    assert by_uuid.json() == by_name.json()


def test_copy_session_copies_scenarios_data_and_configuration(api, main):
    scenario = create_scenario(api, tag="a")
    Scenario.objects.filter(pk=scenario["id"]).update(status="complete", result={"x": 1}, progress=1.0)
    create_scenario(api, tag="b")
    Scenario.objects.filter(tag="b").update(status="queued")

    response = api.post(f"{API}/sessions/main/copy", {"new_display_name": "copy"}, format="json")

    assert response.status_code == 201
    assert [row["display_name"] for row in response.json()["sessions"]] == ["main", "copy"]
    copied = {s["tag"]: s for s in api.get(f"{API}/sessions/copy/scenarios").json()}
    assert copied["a"]["status"] == "complete" and copied["a"]["result"] == {"x": 1}
    assert copied["b"]["status"] == "created"  # nothing is in flight in the copy
    assert api.get(f"{API}/sessions/copy/data").json() == {"keys": ["Master data"]}
    assert Scenario.objects.filter(session=main).count() == 2  # the original is unchanged


def test_copy_of_an_unknown_session_is_404(api, main):
    response = api.post(f"{API}/sessions/nope/copy", {"new_display_name": "x"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Session 'nope' not found."}


def test_copy_to_a_taken_name_is_409(api, main):
    response = api.post(f"{API}/sessions/main/copy", {"new_display_name": "main"}, format="json")

    assert response.status_code == 409


def test_copy_without_a_new_name_is_422(api, main):
    response = api.post(f"{API}/sessions/main/copy", {"new_display_name": ""}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "new_display_name"]


def test_rename_keeps_the_uuid(api, main):
    response = api.patch(f"{API}/sessions/{main.pk}", {"display_name": "renamed"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"id": str(main.pk), "display_name": "renamed"}
    assert api.get(f"{API}/sessions/renamed/data").status_code == 200


def test_rename_to_its_own_name_is_allowed(api, main):
    assert api.patch(f"{API}/sessions/main", {"display_name": "main"}, format="json").status_code == 200


def test_rename_to_another_sessions_name_is_409(api, main):
    api.post(f"{API}/sessions", {"display_name": "other"}, format="json")

    response = api.patch(f"{API}/sessions/main", {"display_name": "other"}, format="json")

    assert response.status_code == 409


def test_rename_unknown_is_404_and_empty_is_422(api, main):
    assert api.patch(f"{API}/sessions/nope", {"display_name": "x"}, format="json").status_code == 404
    assert api.patch(f"{API}/sessions/main", {"display_name": ""}, format="json").status_code == 422


def test_delete_session_removes_everything_it_holds(api, main):
    api.post(f"{API}/sessions", {"display_name": "other"}, format="json")
    create_scenario(api)

    response = api.delete(f"{API}/sessions/main")

    assert response.status_code == 200
    assert [row["display_name"] for row in response.json()["sessions"]] == ["other"]
    assert not Scenario.objects.exists()
    assert not Dataset.objects.filter(session_id=main.pk).exists()


def test_deleting_the_last_session_leaves_a_fresh_main(api, main):
    create_scenario(api)

    response = api.delete(f"{API}/sessions/main")

    assert response.status_code == 200
    [fresh] = response.json()["sessions"]
    assert fresh["display_name"] == "main" and fresh["id"] != str(main.pk)
    assert api.get(f"{API}/sessions/main/scenarios").json() == []


def test_delete_unknown_session_is_404(api, main):
    assert api.delete(f"{API}/sessions/{uuid.uuid4()}").status_code == 404


# --- Algorithms and KPIs ----------------------------------------------------------------------


def test_algorithms_are_listed(api, main):
    response = api.get(f"{API}/sessions/main/algorithms")

    assert response.json() == {"algorithms": ["Slow", "PeakShavingLP", "SelfConsumption"]}


def test_slow_parameters_are_the_documents(api, main):
    response = api.get(f"{API}/sessions/main/algorithms/Slow/parameters")

    assert response.status_code == 200
    assert response.json() == {
        "name": "Slow",
        "parameters": [
            {
                "name": "duration",
                "type": "integer",
                "required": True,
                "value": 1,
                "default": 1,
                "min": 1,
                "max": 60,
            }
        ],
    }


def test_parameter_descriptors_carry_only_what_applies(api, main):
    parameters = api.get(f"{API}/sessions/main/algorithms/PeakShavingLP/parameters").json()["parameters"]
    by_name = {parameter["name"]: parameter for parameter in parameters}

    assert by_name["objective"]["choices"] == ["peak", "peak_and_cost"]
    assert "min" not in by_name["objective"]
    assert by_name["allow_grid_charging"] == {
        "name": "allow_grid_charging", "type": "boolean", "required": True, "value": True, "default": True
    }  # fmt: skip
    assert by_name["capacity_kwh"]["type"] == "float" and by_name["capacity_kwh"]["min"] == 1.0
    assert by_name["label"]["type"] == "string" and by_name["label"]["required"] is False


@pytest.mark.parametrize(
    "path",
    ["nope/algorithms", "nope/algorithms/Slow/parameters", "main/algorithms/Nope/parameters", "nope/kpis"],
)
def test_algorithms_and_kpis_404(api, main, path):
    assert api.get(f"{API}/sessions/{path}").status_code == 404


def test_kpis_are_listed(api, main):
    response = api.get(f"{API}/sessions/main/kpis")

    assert response.json() == {
        "kpis": ["peak_import_kw", "energy_cost", "self_consumption_share", "battery_cycles"]
    }


# --- Scenarios --------------------------------------------------------------------------------


def test_create_scenario_answers_the_scenario_in_created(api, main):
    response = api.post(
        f"{API}/sessions/main/scenarios",
        {"tag": "my-run", "dataset_key": "Master data", "algo_name": "Slow", "algo_params": {"duration": 5}},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert uuid.UUID(body["id"])
    assert body["tag"] == "my-run"
    assert body["input_data_id"] == "Master data"
    assert body["status"] == "created"
    assert body["result"] is None
    assert body["algorithm"] == {
        "name": "Slow",
        "parameters": [
            {
                "name": "duration",
                "type": "integer",
                "value": 5,
                "default": 1,
                "min": 1,
                "max": 60,
                "required": True,
            }
        ],
    }
    assert body["kpis"]["peak_import_kw"] == {"name": "peak_import_kw", "value": None, "unit": "kW"}
    assert all(kpi["value"] is None for kpi in body["kpis"].values())


def test_algo_params_null_uses_all_defaults(api, main):
    body = create_scenario(api, algo_name="PeakShavingLP", algo_params=None)

    values = {parameter["name"]: parameter["value"] for parameter in body["algorithm"]["parameters"]}
    assert values["capacity_kwh"] == 200.0 and values["objective"] == "peak"


@pytest.mark.parametrize(
    ("algo_name", "params", "message"),
    [
        ("Slow", {"duration": 0}, "Parameter 'duration' must be greater than or equal to 1."),
        ("Slow", {"duration": 61}, "Parameter 'duration' must be less than or equal to 60."),
        ("Slow", {"duration": "5"}, "Parameter 'duration' must be an integer."),
        ("Slow", {"duration": 1.5}, "Parameter 'duration' must be an integer."),
        ("Slow", {"duration": True}, "Parameter 'duration' must be an integer."),
        ("Slow", {"speed": 1}, "Unknown parameter 'speed'."),
        (
            "PeakShavingLP",
            {"objective": "cheap"},
            "Parameter 'objective' must be one of: 'peak', 'peak_and_cost'.",
        ),
        (
            "PeakShavingLP",
            {"allow_grid_charging": "yes"},
            "Parameter 'allow_grid_charging' must be a boolean.",
        ),
        ("PeakShavingLP", {"capacity_kwh": "big"}, "Parameter 'capacity_kwh' must be a number."),
        ("PeakShavingLP", {"label": "x" * 81}, "Parameter 'label' must be at most 80 characters long."),
        # Cross-field rules of the schema: refused when created, not when run.
        (
            "PeakShavingLP",
            {"min_soc": 0.9, "max_soc": 0.1, "initial_soc": 0.5},
            "Parameter 'min_soc' (0.9) must be less than 'max_soc' (0.1).",
        ),
        (
            "SelfConsumption",
            {"min_soc": 0.3, "initial_soc": 0.2},
            "Parameter 'initial_soc' (0.2) must be greater than or equal to 'min_soc' (0.3).",
        ),
        (
            "SelfConsumption",
            {"max_soc": 0.6, "initial_soc": 0.7},
            "Parameter 'initial_soc' (0.7) must be less than or equal to 'max_soc' (0.6).",
        ),
    ],
)
def test_invalid_parameter_values_are_400_naming_the_parameter(api, main, algo_name, params, message):
    response = api.post(
        f"{API}/sessions/main/scenarios",
        {"tag": "t", "dataset_key": "Master data", "algo_name": algo_name, "algo_params": params},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"detail": message}
    assert not Scenario.objects.exists()


def test_invalid_data_params_are_400(api, main):
    response = api.post(
        f"{API}/sessions/main/scenarios",
        {"tag": "t", "dataset_key": "Master data", "algo_name": "Slow", "data_params": {"pv_scale": -1}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "Parameter 'pv_scale' must be greater than or equal to 0.0."}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"algo_name": "Nope"}, "Algorithm 'Nope' not found."),
        ({"dataset_key": "nope"}, "Dataset 'nope' not found."),
    ],
)
def test_unknown_algorithm_or_dataset_is_404(api, main, change, message):
    body = {"tag": "t", "dataset_key": "Master data", "algo_name": "Slow", **change}

    response = api.post(f"{API}/sessions/main/scenarios", body, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": message}


def test_duplicate_tag_is_409(api, main):
    create_scenario(api, tag="x")

    response = api.post(
        f"{API}/sessions/main/scenarios",
        {"tag": "x", "dataset_key": "Master data", "algo_name": "Slow"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json() == {"detail": "A scenario with tag 'x' already exists."}


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"dataset_key": "Master data", "algo_name": "Slow"}, "tag", "missing"),
        ({"tag": "t", "algo_name": "Slow"}, "dataset_key", "missing"),
        ({"tag": "t", "dataset_key": "Master data"}, "algo_name", "missing"),
        ({"tag": 5, "dataset_key": "Master data", "algo_name": "Slow"}, "tag", "string_type"),
        ({**VALID, "algo_params": [1]}, "algo_params", "dict_type"),
        ({**VALID, "data_params": "x"}, "data_params", "dict_type"),
    ],
)  # fmt: skip
def test_missing_or_mistyped_fields_are_422(api, main, body, loc, kind):
    response = api.post(f"{API}/sessions/main/scenarios", body, format="json")

    assert response.status_code == 422
    assert [(e["loc"], e["type"]) for e in response.json()["detail"]] == [(["body", loc], kind)]


def test_scenario_list_and_get(api, main):
    first = create_scenario(api, tag="a")
    create_scenario(api, tag="b")

    listed = api.get(f"{API}/sessions/main/scenarios")
    one = api.get(f"{API}/sessions/main/scenarios/{first['id']}")

    assert listed.status_code == 200 and [s["tag"] for s in listed.json()] == ["a", "b"]
    assert one.status_code == 200 and one.json() == first


def test_scenario_list_query_count_does_not_grow(api, main):
    create_scenario(api, tag="a")
    with CaptureQueriesContext(connection) as few:
        api.get(f"{API}/sessions/main/scenarios")
    for index in range(5):
        create_scenario(api, tag=f"more-{index}")
    with CaptureQueriesContext(connection) as many:
        response = api.get(f"{API}/sessions/main/scenarios")

    assert len(response.json()) == 6
    assert len(many) == len(few) <= 4


@pytest.mark.parametrize("path", ["nope/scenarios", "nope/processing"])
def test_scenario_lists_of_unknown_sessions_are_404(api, main, path):
    assert api.get(f"{API}/sessions/{path}").status_code == 404


@pytest.mark.parametrize("suffix", ["", "/status"])
def test_unknown_scenario_is_404(api, main, suffix):
    response = api.get(f"{API}/sessions/main/scenarios/{uuid.uuid4()}{suffix}")
    other = api.get(f"{API}/sessions/nope/scenarios/{uuid.uuid4()}{suffix}")

    assert response.status_code == other.status_code == 404
    assert response.json()["detail"].startswith("Scenario ")
    assert other.json()["detail"] == "Session 'nope' not found."


@pytest.mark.parametrize("method", ["delete", "post:run", "post:reset"])
def test_actions_on_unknown_scenarios_are_404(api, main, method):
    verb, _, action = method.partition(":")
    path = f"{API}/sessions/main/scenarios/{uuid.uuid4()}" + (f"/{action}" if action else "")

    assert getattr(api, verb)(path).status_code == 404


def test_delete_scenario_is_204(api, main):
    scenario = create_scenario(api)

    response = api.delete(f"{API}/sessions/main/scenarios/{scenario['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert not Scenario.objects.exists()


def test_run_answers_202_with_the_scenario_queued(api, main):
    scenario = create_scenario(api)

    response = api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/run")

    assert response.status_code == 202
    assert response.json()["status"] == "queued"


@pytest.mark.parametrize("status", ["queued", "processing", "complete", "failed"])
def test_run_outside_created_is_409(api, main, status):
    scenario = create_scenario(api)
    Scenario.objects.filter(pk=scenario["id"]).update(status=status)

    response = api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/run")

    assert response.status_code == 409
    assert "Reset it first" in response.json()["detail"]


@pytest.mark.parametrize("status", ["queued", "processing"])
def test_reset_in_flight_is_409(api, main, status):
    scenario = create_scenario(api)
    Scenario.objects.filter(pk=scenario["id"]).update(status=status)

    response = api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/reset")

    assert response.status_code == 409
    assert Scenario.objects.get(pk=scenario["id"]).status == status


@pytest.mark.parametrize("status", ["complete", "failed"])
def test_reset_from_a_terminal_state_clears_the_result(api, main, status):
    scenario = create_scenario(api)
    Scenario.objects.filter(pk=scenario["id"]).update(
        status=status, result={"x": 1}, kpi_values={"peak_import_kw": 3.0}, progress=1.0, error="e"
    )

    response = api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/reset")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "created" and body["result"] is None and body["progress"] == 0.0
    assert body["kpis"]["peak_import_kw"]["value"] is None
    assert api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/run").status_code == 202


def test_reset_of_a_created_scenario_is_a_no_op(api, main):
    scenario = create_scenario(api)

    response = api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/reset")

    assert response.status_code == 200
    assert response.json() == scenario


def test_status_is_the_small_poll_body(api, main):
    scenario = create_scenario(api, tag="poll")
    Scenario.objects.filter(pk=scenario["id"]).update(status="processing", progress=0.42)

    response = api.get(f"{API}/sessions/{main.pk}/scenarios/{scenario['id']}/status")

    assert response.status_code == 200
    assert response.json() == {"id": scenario["id"], "tag": "poll", "status": "processing", "progress": 0.42}


def test_status_by_display_name_takes_two_queries_with_the_token(api, main):
    scenario = create_scenario(api)
    api.get(f"{API}/sessions/main/scenarios/{scenario['id']}/status")  # the token's last use written

    with CaptureQueriesContext(connection) as queries:
        api.get(f"{API}/sessions/main/scenarios/{scenario['id']}/status")

    # At most two: the token's lookup (none while the credential cache holds it) and the status.
    assert len(queries) <= 2
    assert len(endpoint_queries(queries)) == 1


def test_processing_is_null_or_the_scenario(api, main):
    scenario = create_scenario(api)
    assert api.get(f"{API}/sessions/main/processing").json() is None

    Scenario.objects.filter(pk=scenario["id"]).update(status="processing")

    assert api.get(f"{API}/sessions/main/processing").json()["id"] == scenario["id"]


def test_kpis_are_shown_once_complete(api, main):
    scenario = create_scenario(api)
    Scenario.objects.filter(pk=scenario["id"]).update(
        status="complete", progress=1.0, result={"series": {}}, kpi_values={"peak_import_kw": 50.0}
    )

    body = api.get(f"{API}/sessions/main/scenarios/{scenario['id']}").json()

    assert body["kpis"]["peak_import_kw"] == {"name": "peak_import_kw", "value": 50.0, "unit": "kW"}
    assert body["result"] == {"series": {}}


# --- Data -------------------------------------------------------------------------------------


def test_dataset_json_round_trips_to_another_session(api, main):
    api.post(f"{API}/sessions", {"display_name": "other"}, format="json")
    payload = api.get(f"{API}/sessions/main/data/Master data")
    assert payload.status_code == 200
    assert payload.json()["tables"]["profile"]["columns"] == [
        "timestamp",
        "load_kw",
        "pv_kw",
        "price_eur_per_kwh",
    ]

    response = api.post(
        f"{API}/sessions/other/data/from-json", payload.content, content_type="application/json"
    )

    assert response.status_code == 201
    assert response.json() == {"keys": ["Master data"]}
    copied = Dataset.objects.get(session__display_name="other")
    assert copied.tables == Dataset.objects.get(session=main).tables


def test_from_json_accepts_an_array_of_datasets(api, main):
    payload = api.get(f"{API}/sessions/main/data/Master data").json()
    items = [{**payload, "key": "one"}, {**payload, "key": "two"}]

    response = api.post(
        f"{API}/sessions/main/data/from-json", json.dumps(items), content_type="application/json"
    )

    assert response.status_code == 201
    assert response.json() == {"keys": ["Master data", "one", "two"]}


@pytest.mark.parametrize(
    "body",
    ["", "   ", "{not json", '{"key": "x", "tables": {"profile": {"columns": ["timestamp"], "rows": []}}}'],
)
def test_from_json_with_an_empty_malformed_or_invalid_body_is_400(api, main, body):
    response = api.post(f"{API}/sessions/main/data/from-json", body, content_type="application/json")

    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)
    assert Dataset.objects.count() == 1


def test_from_json_for_an_unknown_session_is_404(api, main):
    assert (
        api.post(f"{API}/sessions/nope/data/from-json", "{}", content_type="application/json").status_code
        == 404
    )


@pytest.mark.parametrize(
    "path", ["nope/data", "nope/data/Master data", "main/data/nope", "main/data/nope/parameters"]
)
def test_data_404(api, main, path):
    assert api.get(f"{API}/sessions/{path}").status_code == 404


def test_data_parameters(api, main):
    response = api.get(f"{API}/sessions/main/data/Master data/parameters")

    assert response.status_code == 200
    assert [p["name"] for p in response.json()["parameters"]] == ["load_scale", "pv_scale"]


def test_delete_dataset_is_204_when_unused(api, main):
    api.post(f"{API}/sessions/main/data/Master data/derive", {"new_key": "spare"}, format="json")

    response = api.delete(f"{API}/sessions/main/data/spare")

    assert response.status_code == 204
    assert api.get(f"{API}/sessions/main/data").json() == {"keys": ["Master data"]}


def test_delete_dataset_used_by_a_scenario_is_409(api, main):
    create_scenario(api)

    response = api.delete(f"{API}/sessions/main/data/Master data")

    assert response.status_code == 409
    assert "Delete those scenarios first" in response.json()["detail"]
    assert Dataset.objects.filter(key="Master data").exists()


def test_delete_unknown_dataset_is_404(api, main):
    assert api.delete(f"{API}/sessions/main/data/nope").status_code == 404
    assert api.delete(f"{API}/sessions/nope/data/Master data").status_code == 404


def test_derive_answers_the_key_list(api, main):
    response = api.post(f"{API}/sessions/main/data/Master data/derive", {"new_key": "variant"}, format="json")

    assert response.status_code == 201
    assert response.json() == {"keys": ["Master data", "variant"]}
    assert Dataset.objects.get(key="variant").parameters["derived_from"] == "Master data"


def test_derive_errors(api, main):
    url = f"{API}/sessions/main/data/Master data/derive"
    assert api.post(url, {"new_key": "Master data"}, format="json").status_code == 409
    assert api.post(url, {"new_key": ""}, format="json").status_code == 422
    assert api.post(url, {}, format="json").status_code == 422
    assert (
        api.post(f"{API}/sessions/main/data/nope/derive", {"new_key": "x"}, format="json").status_code == 404
    )
    assert (
        api.post(f"{API}/sessions/nope/data/Master data/derive", {"new_key": "x"}, format="json").status_code
        == 404
    )


@pytest.mark.parametrize(
    ("path", "body", "kind"),
    [
        ("sessions", {"display_name": "x" * 201}, "string_too_long"),
        ("sessions", {"display_name": "a\x00b"}, "string_pattern_mismatch"),
        ("sessions/main/scenarios", {**VALID, "tag": "t" * 201}, "string_too_long"),
        ("sessions/main/scenarios", {**VALID, "data_params": {"a\x00": 1}}, "string_pattern_mismatch"),
    ],
)
def test_overlong_names_and_nul_characters_are_422_not_500(api, main, path, body, kind):
    response = api.post(f"{API}/{path}", body, format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == kind


def test_nul_in_a_string_parameter_is_refused(api, main):
    body = {**VALID, "algo_name": "PeakShavingLP", "algo_params": {"label": "a\x00"}}

    response = api.post(f"{API}/sessions/main/scenarios", body, format="json")

    assert response.status_code == 422
    assert not Scenario.objects.exists()


def test_from_json_with_nul_or_an_overlong_key_is_400(api, main):
    payload = api.get(f"{API}/sessions/main/data/Master data").json()

    for bad in ({**payload, "key": "k" * 201}, {**payload, "key": "n", "parameters": {"x": "\x00"}}):
        response = api.post(
            f"{API}/sessions/main/data/from-json", json.dumps(bad), content_type="application/json"
        )
        assert response.status_code == 400
    assert Dataset.objects.count() == 1


# --- What the hot endpoints cost ------------------------------------------------------------


def _queries_of(call) -> list[str]:
    call()  # first: the token's last use is written, the credential cached
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code < 300, response.content
    return endpoint_queries(queries)


@pytest.mark.parametrize("sid", ["main", "uuid"])
@pytest.mark.parametrize("by", ["id", "tag"])
def test_status_is_one_query_by_session_uuid_or_name_and_scenario_id_or_tag(api, main, sid, by):
    scenario = create_scenario(api, tag="poll")
    path = f"{API}/sessions/{main.pk if sid == 'uuid' else 'main'}/scenarios/{scenario[by]}/status"

    queries = _queries_of(lambda: api.get(path))

    assert len(queries) == 1, queries
    assert api.get(path).json() == {"id": scenario["id"], "tag": "poll", "status": "created", "progress": 0.0}


def test_listing_20_scenarios_is_one_query_by_name_or_uuid(api, main):
    for index in range(20):
        create_scenario(api, tag=f"s{index}")

    by_name = _queries_of(lambda: api.get(f"{API}/sessions/main/scenarios"))
    by_uuid = _queries_of(lambda: api.get(f"{API}/sessions/{main.pk}/scenarios"))

    assert len(by_name) == 1, by_name  # the session, its scenarios and their dataset's key
    assert len(by_uuid) == 1, by_uuid
    assert all("tables" not in query for query in by_name + by_uuid)  # never the datasets' tables
    assert (
        api.get(f"{API}/sessions/main/scenarios").json()
        == api.get(f"{API}/sessions/{main.pk}/scenarios").json()
    )


def test_getting_a_scenario_is_one_query(api, main):
    scenario = create_scenario(api)

    queries = _queries_of(lambda: api.get(f"{API}/sessions/main/scenarios/{scenario['id']}"))

    assert len(queries) == 1, queries


def test_creating_a_scenario_is_three_queries_without_reading_the_tables(api, main):
    tags = iter(["a", "b"])
    url = f"{API}/sessions/main/scenarios"

    queries = _queries_of(lambda: api.post(url, {**VALID, "tag": next(tags)}, format="json"))

    assert len(queries) == 3, queries  # the session, the dataset's id, the INSERT
    assert queries[2].startswith("INSERT")
    assert "tables" not in queries[1]


def test_running_a_scenario_is_two_queries_and_enqueues_on_commit(
    api, main, django_capture_on_commit_callbacks
):
    ids = iter([create_scenario(api, tag=tag)["id"] for tag in ("a", "b")])

    with django_capture_on_commit_callbacks() as callbacks:
        queries = _queries_of(lambda: api.post(f"{API}/sessions/main/scenarios/{next(ids)}/run"))

    assert len(queries) == 2, queries  # the scenario with its session, the conditional UPDATE
    assert queries[1].startswith("UPDATE")
    assert len(callbacks) == 2  # one dispatch per run, sent when the transaction commits


@pytest.mark.parametrize("path", ["health", "sessions"])
def test_health_and_the_session_list_read_one_query_and_write_nothing(api, main, path):
    queries = _queries_of(lambda: api.get(f"{API}/{path}"))

    assert len(queries) == 1 and queries[0].startswith("SELECT"), queries


def test_the_portal_session_cookie_polls_status_and_needs_csrf_to_run(main, user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    scenario = create_scenario(bearer_client("Admin"))

    status = client.get(f"{API}/sessions/main/scenarios/{scenario['id']}/status")
    run = client.post(f"{API}/sessions/main/scenarios/{scenario['id']}/run")

    assert status.status_code == 200 and status.json()["status"] == "created"
    assert run.status_code == 403
    assert "CSRF" in run.json()["detail"]


def test_a_taken_tag_is_reported_before_invalid_parameter_values(api, main):
    create_scenario(api, tag="x")

    response = api.post(
        f"{API}/sessions/main/scenarios", {**VALID, "tag": "x", "algo_params": {"duration": 0}}, format="json"
    )

    assert response.status_code == 409
    assert response.json() == {"detail": "A scenario with tag 'x' already exists."}


def test_a_display_name_or_tag_that_looks_like_a_uuid_still_finds_the_scenario(api, main):
    name, tag = str(uuid.uuid4()), str(uuid.uuid4())
    api.post(f"{API}/sessions/main/copy", {"new_display_name": name}, format="json")
    scenario = create_scenario(api, sid=name, tag=tag)

    status = api.get(f"{API}/sessions/{name}/scenarios/{tag}/status")
    one = api.get(f"{API}/sessions/{name}/scenarios/{tag}")

    assert status.status_code == 200 and status.json()["id"] == scenario["id"]
    assert one.status_code == 200 and one.json() == scenario
