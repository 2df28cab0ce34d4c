"""The HEAT v2 API, driven with the payloads of documents 000 and 001."""

import hashlib
import uuid

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from sessions_app.models import NodeOutput, PlatformConfiguration, Project, Session
from tests.helpers import bearer_client
from tests.sessions_app.factories import ConfigFactory, ProjectFactory

pytestmark = pytest.mark.django_db

V2 = "/api/v2"


def read_stream(response) -> bytes:
    return b"".join(response.streaming_content)


def create_session(client, project, **extra):
    body = {
        "Name": "John Doe",
        "Email": "johndoe@example.com",
        "SimulationName": "Heat Simulation Run 1",
        "ProjectId": project.pk,
        "Metadata": {},
        **extra,
    }
    response = client.post(f"{V2}/session", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# --- Health and authentication ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["health", "health_check"])
def test_health_needs_no_token(path):
    response = APIClient().get(f"{V2}/{path}")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer nonsense", "Bearer hat_aaaaaaaaaaaa." + "a" * 40, "Basic dXNlcjpwdw=="]
)
def test_missing_or_invalid_tokens_are_401(header, project):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(f"{V2}/projects")

    assert response.status_code == 401
    assert response.json() == {"status": "error", "message": "Unauthorized"}
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_expired_token_is_401(trainee):
    from heatportal.accounts.models import AccessToken

    AccessToken.objects.update(expires_at=timezone.now())

    assert trainee.get(f"{V2}/user_data").status_code == 401


def test_a_token_of_a_deactivated_user_is_401(trainee):
    trainee.user.is_active = False
    trainee.user.save()

    assert trainee.get(f"{V2}/user_data").status_code == 401


# --- Templates and user data ------------------------------------------------------------------


def test_session_templates_carry_their_node_graph(trainee, template):
    response = trainee.get(f"{V2}/session_templates")

    assert response.status_code == 200
    [body] = response.json()
    assert body["name"] == "Default Template"
    assert body["configuration"] == "{}"
    assert [(n["type"], n["label"]) for n in body["nodes"]] == [
        ("InputNode", "JsonInput Node"),
        ("Preprocessor", "Preprocessing Node"),
    ]
    assert body["nodes"][0]["configuration"] == {"dataSourceName": "raw"}
    assert body["edges"] == [{"from": body["nodes"][0]["id"], "to": body["nodes"][1]["id"]}]


# Document 000, "3. Get Logged-in User Data", its response example verbatim
# (/work/shared/seeds/000_ceaffa70ad1a6520.txt). CONTRACT §2: /user_data answers exactly these keys.
DOCUMENT_USER_DATA = {
    "UserId": "f3c1e7a2-9d4b-4c0a-b5a7-6f3c73b47f29", "Username": "jdoe", "FirstName": "John",
    "LastName": "Doe", "Title": "Product Manager", "Company": "Heat Solutions",
    "Email": "jdoe@heatsolutions.com", "Role": "Admin", "CreatedAt": "2024-09-15T10:30:00Z",
    "UpdatedAt": "2025-01-10T15:45:00Z", "ForceChangePasswordNextSignin": False,
    "IsRegistrationComplete": True, "HasAcceptedDataPrivacy": True, "IsActive": True,
}  # fmt: skip


def test_user_data_answers_exactly_the_keys_of_the_documents_example(trainee):
    body = trainee.get(f"{V2}/user_data").json()

    assert body.keys() == DOCUMENT_USER_DATA.keys()


def test_user_data_describes_the_signed_in_user(trainee):
    body = trainee.get(f"{V2}/user_data").json()

    assert body["Username"] == trainee.user.username
    assert body["Role"] == "Trainee"
    assert body["IsActive"] is True


def test_user_data_user_id_is_a_uuid_stable_per_user_and_distinct_between_users(trainee, instructor):
    first = trainee.get(f"{V2}/user_data").json()["UserId"]
    second = trainee.get(f"{V2}/user_data").json()["UserId"]
    other = instructor.get(f"{V2}/user_data").json()["UserId"]

    assert uuid.UUID(first) == trainee.user.uuid
    assert second == first
    assert other != first


# --- Projects ---------------------------------------------------------------------------------

DOCUMENT_PROJECT = {
    "Title": "Sample Project",
    "Description": "Project for testing",
    "Icon": "project_icon.png",
    "DefaultSessionTemplateId": None,
}


CAMEL_PROJECT = {"title": "Sample Project", "description": "Project for testing", "icon": "project_icon.png"}


@pytest.mark.parametrize(
    "casing",
    [
        lambda t: {**DOCUMENT_PROJECT, "DefaultSessionTemplateId": t.pk},
        lambda t: {**CAMEL_PROJECT, "defaultSessionTemplateId": t.pk},
        lambda t: {**CAMEL_PROJECT, "default_session_template_id": t.pk},
    ],
    ids=["PascalCase", "camelCase", "snake_case"],
)
def test_create_project_in_any_casing(instructor, template, casing):
    response = instructor.post(f"{V2}/projects", casing(template), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Sample Project"
    assert body["icon"] == "project_icon.png"
    assert len(body["hexId"]) == 8 and int(body["hexId"], 16) >= 0
    assert body["ownerId"] == instructor.user.pk
    assert body["owner"]["type"] == "Instructor"
    assert body["defaultSessionTemplateId"] == template.pk
    assert body["defaultSessionTemplate"]["name"] == "Default Template"


def test_create_project_with_an_owner_id(admin, instructor):
    body = {**DOCUMENT_PROJECT, "OwnerId": instructor.user.pk}

    response = admin.post(f"{V2}/projects", body, format="json")

    assert response.status_code == 201
    assert response.json()["ownerId"] == instructor.user.pk


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"Title": ""},
        {"Title": "x", "OwnerId": 999999},
        {"Title": "x", "DefaultSessionTemplateId": 999999},
        {"Title": "x", "DefaultSessionTemplateId": "seven"},
        {"Title": "x", "Icon": 0},  # a number is not text (DRF alone would store "0")
        ["not", "an", "object"],
    ],
)
def test_invalid_project_data_is_400(instructor, body):
    response = instructor.post(f"{V2}/projects", body, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "Invalid project data."
    assert Project.objects.count() == 0


def test_invalid_json_is_a_400_in_the_v2_shape(instructor):
    response = instructor.post(f"{V2}/projects", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["status"] == "error"


def test_a_trainee_may_not_create_or_update_projects(trainee, project):
    assert trainee.post(f"{V2}/projects", DOCUMENT_PROJECT, format="json").status_code == 403
    response = trainee.put(f"{V2}/projects/{project.pk}", DOCUMENT_PROJECT, format="json")

    assert response.status_code == 403
    assert response.json() == {"status": "error", "message": "Forbidden"}


def test_update_project(instructor, project):
    response = instructor.put(
        f"{V2}/projects/{project.pk}", {"Title": "Renamed", "Icon": "i.png"}, format="json"
    )

    assert response.status_code == 200
    project.refresh_from_db()
    assert (project.title, project.icon) == ("Renamed", "i.png")
    assert response.json()["hexId"] == project.hex_id


def test_update_unknown_project_is_404(instructor):
    response = instructor.put(f"{V2}/projects/424242", DOCUMENT_PROJECT | {"Title": "x"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"status": "error", "message": "Project not found."}


def test_list_and_get_projects(trainee, project):
    listed = trainee.get(f"{V2}/projects").json()
    one = trainee.get(f"{V2}/projects/{project.pk}").json()

    assert [p["id"] for p in listed] == [project.pk]
    assert one == listed[0]
    assert trainee.get(f"{V2}/projects/999").json() == {"status": "error", "message": "Project not found"}


def test_project_list_query_count_does_not_grow(trainee, template):
    owner = trainee.user
    ProjectFactory(title="one", owner=owner, default_session_template=template)
    trainee.get(f"{V2}/projects")  # the token's first use writes its last-used time
    with CaptureQueriesContext(connection) as few:
        trainee.get(f"{V2}/projects")
    for n in range(10):
        ProjectFactory(title=f"p{n}", owner=owner, default_session_template=template)
    with CaptureQueriesContext(connection) as many:
        trainee.get(f"{V2}/projects")

    assert len(many) == len(few)


# --- Sessions ---------------------------------------------------------------------------------


def test_create_session_with_the_document_payload(trainee, project, template):
    body = create_session(trainee, project, SessionTemplateId=template.pk)

    uuid.UUID(body["id"])
    assert body["name"] == "John Doe"
    assert body["email"] == "johndoe@example.com"
    assert body["simulationName"] == "Heat Simulation Run 1"
    assert body["projectId"] == project.pk
    assert body["project"]["hexId"] == project.hex_id
    assert body["sessionTemplateId"] == template.pk
    assert body["metadata"] == {}
    assert body["userId"] == trainee.user.pk
    assert [n["name"] for n in body["nodeInstances"]] == ["JsonInput Node", "Preprocessing Node"]
    assert body["defaultIngestionNodeId"] == body["nodeInstances"][0]["id"]


@pytest.mark.parametrize("path", ["session", "sessions", "projects/{project}/sessions"])
@pytest.mark.parametrize("casing", ["PascalCase", "camelCase", "snake_case"])
def test_every_create_path_and_casing_uses_the_project_default_template(trainee, project, path, casing):
    names = {
        "PascalCase": ("Name", "Email", "SimulationName", "ProjectId"),
        "camelCase": ("name", "email", "simulationName", "projectId"),
        "snake_case": ("name", "email", "simulation_name", "project_id"),
    }[casing]
    body = dict(zip(names, ["Run", "a@example.org", "Sim", project.pk], strict=True))

    response = trainee.post(f"{V2}/{path.format(project=project.pk)}", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["sessionTemplateId"] == project.default_session_template_id
    assert response.json()["simulationName"] == "Sim"


def test_without_any_template_the_request_is_400(trainee, project):
    project.default_session_template = None
    project.save()

    response = trainee.post(f"{V2}/session", {"Name": "x", "ProjectId": project.pk}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "message": "Invalid session request. ProjectId and TemplateId are required.",
    }
    assert Session.objects.count() == 0


def test_session_for_an_unknown_project_is_404(trainee):
    response = trainee.post(f"{V2}/session", {"Name": "x", "ProjectId": 4242}, format="json")

    assert response.status_code == 404
    assert response.json()["message"] == "Project not found"


@pytest.mark.parametrize(
    "body",
    [
        {"ProjectId": 1},
        {"Name": "x", "ProjectId": "one"},
        {"Name": "x", "Email": "not-an-email", "ProjectId": 1},
        {"Name": "x", "SimulationName": 0, "ProjectId": 1},
        {"Name": 7, "ProjectId": 1},
    ],
)
def test_malformed_session_requests_are_400(trainee, project, body):
    response = trainee.post(f"{V2}/session", body, format="json")

    assert response.status_code == 400
    assert response.json()["status"] == "error"
    assert Session.objects.count() == 0


def test_get_session(trainee, project):
    created = create_session(trainee, project)

    response = trainee.get(f"{V2}/sessions/{created['id']}")

    assert response.status_code == 200
    assert response.json()["nodeInstances"] == created["nodeInstances"]
    missing = trainee.get(f"{V2}/sessions/{uuid.uuid4()}")
    assert (missing.status_code, missing.json()["message"]) == (404, "Session not found")


def test_patch_session_with_the_document_example_answers_snake_case(trainee, project):
    created = create_session(trainee, project)

    response = trainee.patch(
        f"{V2}/sessions/{created['id']}",
        {"name": "John Doe", "project_id": project.pk, "metadata": {"a": 1}},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["metadata"] == {"a": 1}
    assert body["project_id"] == project.pk
    assert body["project"]["hex_id"] == project.hex_id
    assert body["default_ingestion_node_id"] == created["defaultIngestionNodeId"]
    assert [n["id"] for n in body["node_instances"]] == [n["id"] for n in created["nodeInstances"]]
    assert "simulation_name" in body and "simulationName" not in body


def test_patch_only_changes_the_fields_sent(trainee, project):
    created = create_session(trainee, project)

    trainee.patch(f"{V2}/sessions/{created['id']}", {"simulation_name": "New"}, format="json")

    session = Session.objects.get(pk=created["id"])
    assert (session.name, session.simulation_name, session.email) == (
        "John Doe",
        "New",
        "johndoe@example.com",
    )


@pytest.mark.parametrize(
    "body", [{"email": "nope"}, {"metadata": "{broken"}, {"project_id": 9999}, {"session_template_id": 9999}]
)
def test_patch_with_invalid_data_is_400_and_changes_nothing(trainee, project, body):
    created = create_session(trainee, project)

    response = trainee.patch(f"{V2}/sessions/{created['id']}", body, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "Invalid session data"
    assert Session.objects.get(pk=created["id"]).email == "johndoe@example.com"


def test_patch_metadata_sent_as_a_json_string_is_parsed(trainee, project):
    created = create_session(trainee, project)

    response = trainee.patch(f"{V2}/sessions/{created['id']}", {"metadata": '{"b": [1, 2]}'}, format="json")

    assert response.json()["metadata"] == {"b": [1, 2]}


def test_patch_unknown_session_is_404(trainee):
    response = trainee.patch(f"{V2}/sessions/{uuid.uuid4()}", {"name": "x"}, format="json")

    assert response.json() == {"status": "error", "message": "Session not found"}


# --- Shared sessions --------------------------------------------------------------------------


def shared_body(template, start, **extra):
    return {
        "name": "Shared session",
        "simulationName": "Sim",
        "email": "user@example.com",
        "sessionTemplateId": template.pk,
        "startTimeUtc": start.isoformat(),
        "machineGroup": 1,
        **extra,
    }


def test_shared_session_is_created_then_joined_within_the_window(trainee, instructor, project, template):
    start = timezone.now()
    url = f"{V2}/projects/{project.pk}/sessions/shared"

    first = trainee.post(url, shared_body(template, start), format="json")
    second = instructor.post(
        url, shared_body(template, start + timezone.timedelta(seconds=120)), format="json"
    )
    outside = trainee.post(url, shared_body(template, start + timezone.timedelta(seconds=301)), format="json")
    other_group = trainee.post(url, shared_body(template, start, machineGroup=2), format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert first.json()["isShared"] is True
    assert outside.status_code == 201 and outside.json()["id"] != first.json()["id"]
    assert other_group.json()["id"] not in {first.json()["id"], outside.json()["id"]}


def test_a_closed_shared_session_is_never_joined_again(trainee, project, template):
    start = timezone.now()
    url = f"{V2}/projects/{project.pk}/sessions/shared"
    first = trainee.post(url, shared_body(template, start), format="json").json()

    close = {"Email": "user@example.com", "Reason": "Completed", "CloseAt": timezone.now().isoformat()}
    closed = trainee.post(f"{V2}/sessions/{first['id']}/close", close, format="json")
    again = trainee.post(f"{V2}/sessions/{first['id']}/close", close, format="json")
    rejoin = trainee.post(url, shared_body(template, start), format="json")

    assert closed.status_code == 200 and closed.json()["closedAt"] is not None
    assert again.status_code == 200 and again.json()["closedAt"] == closed.json()["closedAt"]
    assert rejoin.status_code == 201 and rejoin.json()["id"] != first["id"]


def test_shared_session_requires_its_fields(trainee, project, template):
    response = trainee.post(f"{V2}/projects/{project.pk}/sessions/shared", {"name": "x"}, format="json")

    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"simulation_name", "session_template_id", "start_time_utc", "machine_group"} <= fields


def test_close_unknown_session_is_404(trainee):
    response = trainee.post(f"{V2}/sessions/{uuid.uuid4()}/close", {}, format="json")

    assert response.status_code == 404


# --- Node outputs -----------------------------------------------------------------------------


def test_upload_raw_bytes_list_and_download(trainee, project):
    session = create_session(trainee, project)
    node = session["defaultIngestionNodeId"]
    payload = b"your payload" * 1000

    response = trainee.post(f"{V2}/node_instances/{node}/outputs", payload, content_type="application/json")

    assert response.status_code == 201, response.content
    output = response.json()
    assert output["nodeInstanceId"] == node
    assert output["size"] == len(payload)
    assert output["sha256"] == hashlib.sha256(payload).hexdigest()
    assert output["dataSourceName"] == "raw"
    assert default_storage.open(output["dataPath"]).read() == payload
    listed = trainee.get(f"{V2}/node_instances/{node}/outputs").json()
    assert [o["id"] for o in listed] == [output["id"]]
    download = trainee.get(f"{V2}/node_outputs/{output['id']}/data")
    assert download.status_code == 200
    assert read_stream(download) == payload
    assert download["Content-Length"] == str(len(payload))


def test_upload_multipart_with_one_file(trainee, project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    node = create_session(trainee, project)["defaultIngestionNodeId"]
    upload = SimpleUploadedFile("data.json", b'{"a": 1}', content_type="application/json")

    response = trainee.post(f"{V2}/node_instances/{node}/outputs", {"file": upload}, format="multipart")

    assert response.status_code == 201
    assert (response.json()["filename"], response.json()["size"]) == ("data.json", 8)


def test_outputs_are_listed_oldest_first_and_empty_nodes_list_nothing(trainee, project):
    session = create_session(trainee, project)
    node = session["defaultIngestionNodeId"]
    ids = [
        trainee.post(f"{V2}/node_instances/{node}/outputs", b"x", content_type="text/plain").json()["id"]
        for _ in range(3)
    ]

    assert [o["id"] for o in trainee.get(f"{V2}/node_instances/{node}/outputs").json()] == ids
    assert trainee.get(f"{V2}/node_instances/{session['nodeInstances'][1]['id']}/outputs").json() == []


def test_upload_to_a_node_without_data_source_is_400(trainee, project):
    session = create_session(trainee, project)
    node = session["nodeInstances"][1]["id"]  # the preprocessor has no dataSourceName

    response = trainee.post(f"{V2}/node_instances/{node}/outputs", b"x", content_type="text/plain")

    assert response.status_code == 400
    assert "dataSourceName" in response.json()["message"]
    assert NodeOutput.objects.count() == 0


def test_upload_to_an_unknown_node_is_404(trainee):
    response = trainee.post(f"{V2}/node_instances/999999/outputs", b"x", content_type="text/plain")

    assert response.status_code == 404
    assert trainee.get(f"{V2}/node_instances/999999/outputs").status_code == 404
    assert trainee.get(f"{V2}/node_outputs/999999/data").status_code == 404


def test_an_oversized_upload_is_413_and_leaves_nothing_behind(trainee, project, settings, tmp_path):
    settings.HEAT_MAX_UPLOAD_BYTES = 1000
    node = create_session(trainee, project)["defaultIngestionNodeId"]

    declared = trainee.post(f"{V2}/node_instances/{node}/outputs", b"x" * 1001, content_type="text/plain")

    assert declared.status_code == 413
    assert declared.json()["status"] == "error"
    assert NodeOutput.objects.count() == 0


# --- Scenario instances -----------------------------------------------------------------------


def test_add_scenario_instance_with_the_document_payload(trainee, project):
    session = create_session(trainee, project)
    body = {
        "simulationId": "string",
        "scenarioName": "Test Scenario A",
        "scenarioInstanceId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "from": "2025-10-02T10:39:24.760Z",
        "to": "2025-10-02T11:39:24.760Z",
    }

    response = trainee.post(f"{V2}/{session['id']}/scenario_instances", body, format="json")

    assert response.status_code == 200
    result = response.json()
    assert result["status"] is True
    assert result["message"] == "Scenario instance retrieved successfully"
    assert result["template"]["scenarioName"] == "Test Scenario A"
    assert result["template"]["sessionId"] == session["id"]
    assert result["template"]["from"].startswith("2025-10-02T10:39:24.76")
    assert (
        trainee.get(f"{V2}/sessions/{session['id']}").json()["scenarios"][0]["scenarioName"]
        == "Test Scenario A"
    )


def test_scenario_instance_errors(trainee, project):
    session = create_session(trainee, project)

    missing_session = trainee.post(
        f"{V2}/{uuid.uuid4()}/scenario_instances", {"scenarioName": "x"}, format="json"
    )
    missing_name = trainee.post(
        f"{V2}/{session['id']}/scenario_instances", {"simulationId": "1"}, format="json"
    )

    assert missing_session.json() == {"status": "error", "message": "SessionId not found."}
    assert missing_name.status_code == 400
    assert missing_name.json()["message"] == "Invalid request. Scenarion name is required."


# --- Platform configuration -------------------------------------------------------------------


def test_create_update_and_read_configuration(admin):
    created = admin.post(
        f"{V2}/config",
        {"name": "public_api_v1:MaxTrainingEpochs", "valueType": 2, "value": "50", "description": "Epochs"},
        format="json",
    )
    updated = admin.put(
        f"{V2}/config/public_api_v1:MaxTrainingEpochs",
        {"valueType": 2, "value": "60", "description": "More"},
        format="json",
    )
    admin.post(
        f"{V2}/config",
        {"Name": "public_api_v1:SendGridSettings", "ValueType": 4, "Value": {"k": 1}},
        format="json",
    )

    assert created.status_code == 201
    assert {k: created.json()[k] for k in ("name", "valueType", "value")} == {
        "name": "public_api_v1:MaxTrainingEpochs", "valueType": 2, "value": "50",
    }  # fmt: skip
    assert updated.status_code == 200 and updated.json()["value"] == "60"
    assert admin.get(f"{V2}/config", {"prefix": "public_api_v1"}).json() == {
        "public_api_v1:MaxTrainingEpochs": 60,
        "public_api_v1:SendGridSettings": {"k": 1},
    }
    assert admin.get(f"{V2}/config/all").json() == {
        "public_api_v1": {"MaxTrainingEpochs": 60, "SendGridSettings": {"k": 1}}
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "", "valueType": 0, "value": "x"}, "Invalid configuration name"),
        ({"name": "a::b", "valueType": 0, "value": "x"}, "Invalid configuration name"),
        (
            {"name": "n", "valueType": 2, "value": "fifty"},
            "Invalid configuration value: 'fifty' is not an integer.",
        ),
        (
            {"name": "n", "valueType": 1, "value": "maybe"},
            "Invalid configuration value: 'maybe' is not a boolean: use true or false.",
        ),
        (
            {"name": "n", "valueType": 4, "value": "{oops"},
            "Invalid configuration value: '{oops' is not JSON.",
        ),
    ],
)
def test_invalid_configuration_is_400(admin, body, message):
    response = admin.post(f"{V2}/config", body, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == message
    assert PlatformConfiguration.objects.count() == 0


@pytest.mark.parametrize(
    ("sent", "stored"), [("true", "true"), ("TRUE", "true"), (" False ", "false"), (True, "true")]
)
def test_a_boolean_configuration_is_stored_as_true_or_false(admin, sent, stored):
    created = admin.post(f"{V2}/config", {"name": "flags:on", "valueType": 1, "value": sent}, format="json")
    updated = admin.put(f"{V2}/config/flags:on", {"valueType": 1, "value": sent}, format="json")

    assert created.status_code == 201 and created.json()["value"] == stored
    assert updated.status_code == 200 and updated.json()["value"] == stored
    assert PlatformConfiguration.objects.get(name="flags:on").value == stored


@pytest.mark.parametrize("sent", ["yes", "1", "0", "no", 1])
def test_a_boolean_configuration_accepts_only_true_or_false(admin, sent):
    response = admin.post(f"{V2}/config", {"name": "flags:on", "valueType": 1, "value": sent}, format="json")

    assert response.status_code == 400
    assert response.json()["message"].endswith("is not a boolean: use true or false.")
    assert not PlatformConfiguration.objects.exists()


@pytest.mark.parametrize("field", ["valueType", "projectId"])
def test_a_boolean_is_not_an_integer(admin, field):
    body = {"name": "n", "valueType": 0, "value": "x", field: False}
    path = f"{V2}/config" if field == "valueType" else f"{V2}/projects/1/sessions"

    response = admin.post(path, body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "A valid integer is required."


def test_duplicate_configuration_is_409_and_unknown_is_404(admin):
    admin.post(f"{V2}/config", {"name": "a:b", "valueType": 0, "value": "x"}, format="json")

    duplicate = admin.post(f"{V2}/config", {"name": "a:b", "valueType": 0, "value": "y"}, format="json")
    unknown = admin.put(f"{V2}/config/no:such", {"valueType": 0, "value": "y"}, format="json")

    assert duplicate.status_code == 409
    assert duplicate.json()["message"] == "Configuration with the same name already exists."
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "Configuration not found"


def test_non_admins_read_only_public_prefixes(trainee):
    ConfigFactory(name="public_api_v1:Support", value="help@example.org")
    ConfigFactory(name="internal:Secret", value="hidden")

    assert trainee.get(f"{V2}/config", {"prefix": "public_api_v1"}).json() == {
        "public_api_v1:Support": "help@example.org"
    }
    assert trainee.get(f"{V2}/config", {"prefix": "internal"}).json() == {}
    assert trainee.get(f"{V2}/config", {"prefix": ""}).status_code == 400


@pytest.mark.parametrize(
    ("method", "path"), [("get", "config/all"), ("post", "config"), ("put", "config/public_api_v1:x")]
)
def test_trainees_and_instructors_may_not_manage_configuration(trainee, instructor, method, path):
    for client in (trainee, instructor):
        response = getattr(client, method)(f"{V2}/{path}", {"name": "a", "value": "b"}, format="json")
        assert response.status_code == 403
        assert response.json() == {"status": "error", "message": "Forbidden"}


def test_every_role_creates_and_joins_sessions(project):
    for role in ("Admin", "Instructor", "Trainee"):
        client = bearer_client(role)
        assert (
            client.post(f"{V2}/session", {"Name": role, "ProjectId": project.pk}, format="json").status_code
            == 201
        )


# --- Hot endpoints: what each request costs -------------------------------------------------


def test_health_costs_one_query():
    with CaptureQueriesContext(connection) as queries:
        response = APIClient().get(f"{V2}/health")

    assert response.status_code == 200
    assert [q["sql"] for q in queries] == ["SELECT 1"]


def test_session_get_costs_one_query_besides_the_token(trainee, project):
    created = create_session(trainee, project)
    trainee.post(f"{V2}/{created['id']}/scenario_instances", {"scenarioName": "A"}, format="json")
    trainee.post(f"{V2}/{created['id']}/scenario_instances", {"scenarioName": "B"}, format="json")

    with CaptureQueriesContext(connection) as queries:
        response = trainee.get(f"{V2}/sessions/{created['id']}")

    assert response.status_code == 200
    assert [s["scenarioName"] for s in response.json()["scenarios"]] == ["A", "B"]
    token_lookups = [q for q in queries if "accounts_accesstoken" in q["sql"]]
    assert len(token_lookups) <= 1  # none when the token was verified within the last second
    assert len(queries) - len(token_lookups) == 1, [q["sql"][:80] for q in queries]
