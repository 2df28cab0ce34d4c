"""The crowd API without workers: authentication, validation, defaults, visibility, abort,
limits and blocking timeouts."""

import base64
import time
import uuid

import pytest

from crowd_app.models import CrowdRequest
from crowd_app.services import crowd_account_create, crowd_api_key_create, crowd_api_key_revoke
from tests.crowd_app.examples import EXAMPLES, VIOLENCE
from tests.crowd_app.helpers import CrowdClient
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def create(api, request_type, body, query=""):
    return api.post(f"/v1/requests/{request_type}{query}", body)


# --- Authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "nonsense", "test_" + "0" * 32, "f" * 32])
def test_missing_or_unknown_key_is_401(test_key, key):
    response = CrowdClient(key).post("/v1/requests/free-text", {"instruction": "x"})

    assert response.status_code == 401
    assert response.json() == {
        "status": "error",
        "code": 401,
        "message": "Unauthorized: no valid API key provided",
    }


def test_key_as_basic_user_name_like_curl_u(test_key):
    client = CrowdClient(None)
    created = client.client.post(
        "/v1/requests/free-text",
        data='{"instruction": "x"}',
        content_type="application/json",
        headers={"Authorization": "Basic " + base64.b64encode(f"{test_key}:".encode()).decode()},
    )
    assert created.status_code == 200, created.content
    fetched = client.client.get(
        f"/v1/requests/{created.json()['id']}",
        headers={"Authorization": "Basic " + base64.b64encode(f"{test_key}:".encode()).decode()},
    )
    assert fetched.status_code == 200
    assert fetched.json()["id"] == created.json()["id"]


def test_revoked_key_is_refused(account):
    api_key, value = crowd_api_key_create(account=account, test=True)
    crowd_api_key_revoke(api_key=api_key)

    assert CrowdClient(value).post("/v1/requests/free-text", {"instruction": "x"}).status_code == 401


# --- Creating: the document's examples, defaults, extra fields --------------------------------


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_document_examples_are_accepted_and_echoed(api, name):
    path, body = EXAMPLES[name]

    response = api.post(path.replace("?block=30", ""), body)

    assert response.status_code == 200, response.content
    data = response.json()
    uuid.UUID(data["id"])
    assert data["status"] == "pending"
    assert data["type"] == path.split("/")[-1].split("?")[0]
    for field, value in body.items():
        if field == "per_annotation":
            assert value.items() <= data[field].items()
        elif field == "confidence":
            assert data[field] == value
        else:
            assert data[field] == value


def test_defaults_are_filled_in(api):
    mc = create(api, "multiple-choice", {"instruction": "Pick", "choices": ["a", "b"]}).json()
    assert (mc["attachments_type"], mc["attachments"], mc["choices_type"]) == ("text", [], "text")
    assert (mc["min_answers"], mc["max_answers"]) == (1, 0)

    rating = create(api, "rating", {"instruction": "Rate"}).json()
    assert (rating["rating_min"], rating["rating_max"], rating["rating_step"]) == (0, 100, 1)

    annotations = create(api, "annotations-with-rating", EXAMPLES["annotations-with-rating"][1]).json()
    assert (annotations["annotations_type"], annotations["min_annotations"]) == ("point", 1)
    assert annotations["per_annotation"]["rating_step"] == 1
    assert "max_annotations" not in annotations


def test_extra_fields_are_kept_and_echoed(api):
    body = {"instruction": "Translate", "tags": ["a", "b"], "client_ref": 7}

    data = create(api, "free-text", body).json()

    assert data["tags"] == ["a", "b"] and data["client_ref"] == 7
    assert api.get(f"/v1/requests/{data['id']}").json()["tags"] == ["a", "b"]


def test_client_cannot_set_server_fields(api):
    data = create(
        api, "free-text", {"instruction": "x", "status": "complete", "response": "hi", "id": "nope"}
    ).json()

    assert data["status"] == "pending" and "response" not in data and data["id"] != "nope"


# --- Validation: 400 naming the field, nothing stored -----------------------------------------


INVALID = [
    ("free-text", {}, "instruction"),
    ("free-text", {"instruction": "  "}, "instruction"),
    ("free-text", {"instruction": 5}, "instruction"),
    ("free-text", {"instruction": "x", "validation": "email"}, "validation"),
    ("free-text", {"instruction": "x", "attachments_type": "pdf"}, "attachments_type"),
    ("free-text", {"instruction": "x", "attachments": "hola"}, "attachments"),
    (
        "free-text",
        {"instruction": "x", "attachments_type": "image", "attachments": ["not a url"]},
        "attachments[0]",
    ),
    ("free-text", {"instruction": "x", "hook_url": "ftp://example.com/"}, "hook_url"),
    ("free-text", {"instruction": "x", "exclude_crunchers": "abc"}, "exclude_crunchers"),
    ("multiple-choice", {"instruction": "x"}, "choices"),
    ("multiple-choice", {"instruction": "x", "choices": []}, "choices"),
    ("multiple-choice", {"instruction": "x", "choices": ["a", ""]}, "choices[1]"),
    ("multiple-choice", {"instruction": "x", "choices": ["a", "a"]}, "choices"),
    (
        "multiple-choice",
        {"instruction": "x", "choices": ["a", "b", "c"], "min_answers": 3, "max_answers": 2},
        "min_answers",
    ),
    ("multiple-choice", {"instruction": "x", "choices": ["a"], "min_answers": 2}, "min_answers"),
    ("multiple-choice", {"instruction": "x", "choices": ["a"], "max_answers": -1}, "max_answers"),
    ("multiple-choice", {"instruction": "x", "choices": ["a"], "min_answers": "1"}, "min_answers"),
    ("multiple-choice", {"instruction": "x", "choices": ["a"], "choices_type": "image"}, "choices[0]"),
    ("rating", {"instruction": "x", "rating_min": 10, "rating_max": 5}, "rating_max"),
    ("rating", {"instruction": "x", "rating_step": 0}, "rating_step"),
    ("rating", {"instruction": "x", "rating_step": 500}, "rating_step"),
    # The range's steps are counted (answers, staging): they must be finitely many (schemathesis).
    ("rating", {"instruction": "x", "rating_min": -1e308, "rating_max": 1e308}, "rating_max"),
    ("rating", {"instruction": "x", "rating_max": 1e308, "rating_step": 1e-308}, "rating_step"),
    ("rating", {"instruction": "x", "rating_min": "low"}, "rating_min"),
    ("rating", {"instruction": "x", "label_min": 3}, "label_min"),
    ("annotations", {"instruction": "x"}, "attachments"),
    (
        "annotations",
        {"instruction": "x", "attachments": ["t"], "annotations_type": "circle"},
        "annotations_type",
    ),
    (
        "annotations",
        {"instruction": "x", "attachments": ["t"], "min_annotations": 3, "max_annotations": 2},
        "max_annotations",
    ),
    ("annotations-with-multiple-choice", {"instruction": "x", "attachments": ["t"]}, "per_annotation"),
    (
        "annotations-with-multiple-choice",
        {"instruction": "x", "attachments": ["t"], "per_annotation": []},
        "per_annotation",
    ),
    (
        "annotations-with-multiple-choice",
        {"instruction": "x", "attachments": ["t"], "per_annotation": {"instruction": "q"}},
        "per_annotation.choices",
    ),
    (
        "annotations-with-free-text",
        {
            "instruction": "x",
            "attachments": ["t"],
            "per_annotation": {"instruction": "q", "validation": "zip"},
        },
        "per_annotation.validation",
    ),
    (
        "annotations-with-rating",
        {"instruction": "x", "attachments": ["t"], "per_annotation": {"rating_max": 3}},
        "per_annotation.instruction",
    ),
    (
        "annotations-with-rating",
        {"instruction": "x", "attachments": ["t"], "per_annotation": {"instruction": "q", "rating_max": -3}},
        "per_annotation.rating_max",
    ),
    ("free-text", {"instruction": "x", "confidence": {"strategy": "unanimous"}}, "confidence.strategy"),
    (
        "free-text",
        {"instruction": "x", "confidence": {"min_agreements": 3, "max_crunchers": 2}},
        "confidence.max_crunchers",
    ),
    ("free-text", {"instruction": "x", "confidence": {"min_agreements": 0}}, "confidence.min_agreements"),
    ("free-text", [1, 2], "body"),
]


@pytest.mark.parametrize(("request_type", "body", "field"), INVALID)
def test_invalid_bodies_are_400_naming_the_field(api, request_type, body, field):
    response = create(api, request_type, body)

    assert response.status_code == 400, response.content
    data = response.json()
    assert data["status"] == "error" and data["code"] == 400
    assert data["message"].startswith(f"{field}: "), data["message"]
    assert CrowdRequest.objects.count() == 0


def test_invalid_json_and_unknown_type(api):
    assert api.post("/v1/requests/free-text", "{nope").status_code == 400
    unknown = create(api, "essay", {"instruction": "x"})
    assert unknown.status_code == 404 and unknown.json()["code"] == 404


def test_attachment_limits(api, settings):
    settings.CROWD_MAX_ATTACHMENTS = 2
    settings.CROWD_MAX_ATTACHMENT_LENGTH = 10
    too_many = create(api, "free-text", {"instruction": "x", "attachments": ["a", "b", "c"]})
    too_long = create(api, "free-text", {"instruction": "x", "attachments": ["a" * 11]})

    assert too_many.status_code == 400 and too_many.json()["message"].startswith("attachments: at most 2")
    assert too_long.status_code == 400 and too_long.json()["message"].startswith("attachments[0]: ")


def test_private_hook_url_is_refused_unless_allowed(api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    for url in ["http://127.0.0.1:9/hook", "http://10.0.0.1/", "http://[::1]/x", "http://localhost/x"]:
        response = create(api, "free-text", {"instruction": "x", "hook_url": url})
        assert response.status_code == 400, url
        assert response.json()["message"].startswith("hook_url: ")


# --- Reading, visibility, abort ---------------------------------------------------------------


def test_get_returns_the_pending_request(api):
    created = create(api, "multiple-choice", VIOLENCE).json()

    fetched = api.get(f"/v1/requests/{created['id']}")

    assert fetched.status_code == 200
    assert fetched.json() == created


def test_a_key_sees_only_its_account_and_environment(api, live_api):
    staging = create(api, "free-text", {"instruction": "x"}).json()["id"]
    live = create(live_api, "free-text", {"instruction": "x"}).json()["id"]
    other_account = crowd_account_create(owner=UserFactory(), name="other")
    other = CrowdClient(crowd_api_key_create(account=other_account, test=True)[1])

    assert api.get(f"/v1/requests/{live}").status_code == 404
    assert live_api.get(f"/v1/requests/{staging}").status_code == 404
    assert live_api.get(f"/v1/requests/{live}").status_code == 200
    assert other.get(f"/v1/requests/{staging}").status_code == 404
    assert other.post(f"/v1/tasks/abort/{staging}").status_code == 404
    assert api.get(f"/v1/requests/{uuid.uuid4()}").json() == {
        "status": "error",
        "code": 404,
        "message": "Request not found",
    }
    assert api.get("/v1/requests/not-a-uuid").status_code == 404


def test_abort_pending_then_not_again(live_api):
    request_id = create(live_api, "free-text", {"instruction": "x"}).json()["id"]

    first = live_api.post(f"/v1/tasks/abort/{request_id}?block=30")
    second = live_api.post(f"/v1/tasks/abort/{request_id}")

    assert first.status_code == 200 and first.json() == {"success": True}
    assert second.status_code == 400
    assert second.json()["success"] is False and "aborted" in second.json()["message"]
    assert live_api.get(f"/v1/requests/{request_id}").json()["status"] == "aborted"


def test_block_returns_pending_when_time_runs_out(live_api):
    request_id = create(live_api, "free-text", {"instruction": "x"}).json()["id"]

    started = time.monotonic()
    response = live_api.get(f"/v1/requests/{request_id}?block=1")

    assert 0.9 <= time.monotonic() - started < 3
    assert response.json()["status"] == "pending"


def test_block_on_a_done_request_answers_at_once(live_api):
    request_id = create(live_api, "free-text", {"instruction": "x"}).json()["id"]
    live_api.post(f"/v1/tasks/abort/{request_id}")

    started = time.monotonic()
    response = live_api.get(f"/v1/requests/{request_id}?block=30")

    assert time.monotonic() - started < 1
    assert response.json()["status"] == "aborted"


@pytest.mark.parametrize("block", ["soon", "-1", "", "soon&block=", "-1&block=2", "2&block="])
def test_bad_block_is_400(live_api, block):
    response = create(live_api, "free-text", {"instruction": "x"}, f"?block={block}")

    assert response.status_code == 400 and response.json()["message"].startswith("block: ")


# --- Rate limit -------------------------------------------------------------------------------


def test_rate_limit_per_key_answers_429_with_retry_after(api, live_api, settings):
    settings.CROWD_RATE_LIMIT_PER_MINUTE = 3
    codes = [create(api, "free-text", {"instruction": "x"}).status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    limited = create(api, "free-text", {"instruction": "x"})
    assert limited.json() == {"status": "error", "code": 429, "message": "Too many requests: slow down"}
    assert 1 <= int(limited.headers["Retry-After"]) <= 61
    assert create(live_api, "free-text", {"instruction": "x"}).status_code == 200  # another key


def test_documented_fields_sent_as_null_count_as_absent(test_key):
    body = {"instruction": "x", "hook_url": None, "confidence": None, "exclude_crunchers": None}

    response = CrowdClient(test_key).post("/v1/requests/free-text", body)

    assert response.status_code == 200, response.content
    echoed = response.json()
    assert "hook_url" not in echoed and "confidence" not in echoed and "exclude_crunchers" not in echoed
    assert CrowdRequest.objects.get(pk=echoed["id"]).hook_url == ""


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("put", "/v1/requests/free-text", "POST"),
        ("get", "/v1/requests/free-text", "POST"),
        ("post", f"/v1/requests/{uuid.uuid4()}", "GET"),
        ("delete", f"/v1/requests/{uuid.uuid4()}", "GET"),
        ("delete", "/v1/requests/essay", "GET, POST"),
        ("get", f"/v1/tasks/abort/{uuid.uuid4()}", "POST"),
    ],
)
def test_other_methods_are_405_naming_the_allowed_ones(test_key, method, path, allowed):
    response = getattr(CrowdClient(test_key).client, method)(path, headers={"X-Heat-API-Key": test_key})

    assert response.status_code == 405
    assert response["Allow"] == allowed
    assert response.json() == {"status": "error", "code": 405, "message": "Method not allowed"}
