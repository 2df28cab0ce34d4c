"""heat_client against the portal served live by uvicorn: every operation, both ways of
authenticating, and the four kinds of error. No mocks: the server is the real one."""

import hashlib
import io
import socket
import uuid
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from heat_client import (
    CloseSessionRequest,
    CreateSessionRequest,
    CreateSharedSessionRequest,
    HeatApiException,
    HeatAuthenticationException,
    HeatClient,
    HeatConnectionException,
)
from heatportal.accounts.models import AccessToken
from heatportal.credentials import credential_cache_clear
from sessions_app.models import NodeOutput, PlatformConfiguration, Session
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_connect_checks_the_health_endpoint(heat):
    heat.connect()
    assert heat.is_connected


def test_connect_to_a_closed_port_explains_what_to_check(token):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = HeatClient(f"http://127.0.0.1:{port}", token=token)
    with client, pytest.raises(HeatConnectionException, match="not reachable"):
        client.connect()


def test_without_auto_connect_an_operation_asks_for_connect(live_url, token):
    with HeatClient(live_url, token=token, auto_connect=False) as client:
        with pytest.raises(HeatConnectionException, match="call connect"):
            client.get_projects()
        client.connect()
        assert client.get_projects() == []


def test_discovery_lists_templates_with_their_nodes_and_projects(heat, template, project):
    [listed] = heat.get_session_templates()
    assert (listed.id, listed.name) == (template.id, "Default Template")
    assert [node.key for node in listed.nodes] == ["json-input", "preprocess"]

    [listed_project] = heat.get_projects()
    assert listed_project.id == project.id
    assert listed_project.hex_id == project.hex_id
    assert listed_project.default_session_template_id == template.id


def test_platform_configuration_by_prefix_has_typed_values(heat):
    PlatformConfiguration.objects.create(name="public_api_v1:MaxUploadMegabytes", value_type=2, value="5120")
    PlatformConfiguration.objects.create(name="public_api_v1:Enabled", value_type=1, value="true")
    PlatformConfiguration.objects.create(name="internal:Secret", value_type=3, value="x")

    config = heat.get_platform_configuration_by_prefix("public_api_v1")

    assert config == {"public_api_v1:MaxUploadMegabytes": 5120, "public_api_v1:Enabled": True}
    assert heat.get_platform_configuration_by_prefix("public_api_v1:Nothing") == {}


def test_the_documented_workflow_create_upload_verify_close(heat, project):
    session = heat.create_session(
        project.id, CreateSessionRequest(name="Run 1", simulation_name="sim", metadata={"trial": 3})
    )
    assert session.session_template_id == project.default_session_template_id
    assert [node.name for node in session.node_instances] == ["JsonInput Node", "Preprocessing Node"]
    node_id = session.default_ingestion_node_id
    assert node_id == session.node_instances[0].id

    output = heat.upload_node_output(node_id, b'{"hello": "heat"}', content_type="application/json")
    assert output.size == 17
    stored = NodeOutput.objects.get(pk=output.id)
    assert stored.sha256 == hashlib.sha256(b'{"hello": "heat"}').hexdigest()

    assert [listed.id for listed in heat.get_node_outputs(node_id)] == [output.id]
    fetched = heat.get_session(session.id)
    assert fetched.id == session.id
    assert fetched.metadata == {"trial": 3}

    assert heat.close_session(session.id, CloseSessionRequest(reason="done")) is True
    assert Session.objects.get(pk=session.id).closed_at is not None


@pytest.mark.parametrize("kind", ["path", "seekable file", "pipe-like stream", "iterator"])
def test_uploads_from_files_and_streams_arrive_whole(heat, project, tmp_path, kind):
    data = bytes(range(256)) * 4096 + b"tail"  # 1 MiB and a bit: several chunks
    path = tmp_path / "payload.bin"
    path.write_bytes(data)
    sources = {
        "path": lambda: path,
        "seekable file": lambda: path.open("rb"),
        "pipe-like stream": lambda: io.BufferedReader(_Unseekable(data)),
        "iterator": lambda: (data[i : i + 100_000] for i in range(0, len(data), 100_000)),
    }
    session = heat.create_session(project.id, CreateSessionRequest(name=f"upload from {kind}"))

    output = heat.upload_node_output(session.default_ingestion_node_id, sources[kind]())

    assert output.size == len(data)
    assert NodeOutput.objects.get(pk=output.id).sha256 == hashlib.sha256(data).hexdigest()


def test_shared_session_callers_in_one_window_join_one_session(heat, project, template):
    start = datetime.now(UTC)

    def join(machine_group: int):
        return heat.create_or_join_shared_session(
            project.id,
            CreateSharedSessionRequest(
                name="Shared",
                simulation_name="fleet",
                email="sim@example.org",
                session_template_id=template.id,
                start_time_utc=start,
                machine_group=machine_group,
            ),
        )

    first, second, other_group = join(1), join(1), join(2)

    assert first.id == second.id
    assert first.is_shared
    assert other_group.id != first.id


def test_unknown_ids_give_none_empty_or_an_api_error(heat, project):
    assert heat.get_session(uuid.uuid4()) is None
    assert heat.get_node_outputs(999_999) == []
    with pytest.raises(HeatApiException) as raised:
        heat.create_session(999_999, CreateSessionRequest(name="nowhere"))
    error = raised.value
    assert error.operation == "CreateSession"
    assert error.status_code == 404
    assert error.server_message  # the server's own message, taken from the error body
    assert error.server_message in str(error)


def test_upload_to_a_node_without_data_source_is_an_api_error_with_the_servers_message(heat, project):
    session = heat.create_session(project.id, CreateSessionRequest(name="Run"))
    preprocessor = session.node_instances[1].id

    with pytest.raises(HeatApiException) as raised:
        heat.upload_node_output(preprocessor, b"data")

    assert raised.value.operation == "UploadNodeOutput"
    assert raised.value.status_code == 400
    assert raised.value.server_message
    assert not NodeOutput.objects.exists()


def test_a_revoked_token_raises_an_authentication_error(heat, api_user):
    AccessToken.objects.filter(user=api_user).update(revoked_at=timezone.now())

    with pytest.raises(HeatAuthenticationException, match="invalid, expired or revoked") as raised:
        heat.get_projects()
    assert raised.value.status_code == 401


def test_password_sign_in_refreshes_and_retries_once_after_a_401(password_heat, api_user, project):
    assert [p.id for p in password_heat.get_projects()] == [project.id]
    [first] = AccessToken.objects.filter(user=api_user, revoked_at__isnull=True)

    # The server revokes the cached access token: the next call gets a 401, refreshes, retries.
    # (A revocation takes effect within CREDENTIAL_CACHE_SECONDS; clearing the server's cache of
    # verified credentials, which runs in this process, stands for that second.)
    AccessToken.objects.filter(pk=first.pk).update(revoked_at=timezone.now())
    credential_cache_clear()
    assert [p.id for p in password_heat.get_projects()] == [project.id]

    [renewed] = AccessToken.objects.filter(user=api_user, revoked_at__isnull=True)
    assert renewed.pk != first.pk


def test_an_upload_is_sent_again_after_the_refresh_when_it_can_be_rewound(password_heat, api_user, project):
    session = password_heat.create_session(project.id, CreateSessionRequest(name="Run"))
    AccessToken.objects.filter(user=api_user).update(revoked_at=timezone.now())
    credential_cache_clear()

    output = password_heat.upload_node_output(session.default_ingestion_node_id, b"after refresh")

    assert output.size == len(b"after refresh")


def test_a_wrong_password_says_so(live_url, api_user):
    client = HeatClient(live_url, username=api_user.username, password=PASSWORD + "-wrong")
    with client, pytest.raises(HeatAuthenticationException, match="rejected the user name or password"):
        client.get_projects()


class _Unseekable(io.RawIOBase):
    """A readable, non-seekable stream (like a pipe)."""

    def __init__(self, data: bytes):
        self._data = memoryview(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), len(self._data))
        buffer[:size] = self._data[:size]
        self._data = self._data[size:]
        return size
