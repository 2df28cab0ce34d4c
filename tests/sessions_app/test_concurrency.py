"""Many simulators calling create-or-join at once end up in one shared session."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.utils import timezone

from heatportal.accounts.models import AccessToken
from heatportal.credentials import credential_issue
from sessions_app.models import Session
from tests.factories import UserFactory

CALLERS = 16


@pytest.mark.parametrize("round_", range(5))
def test_concurrent_create_or_join_yields_one_session(live_url, project, template, round_):
    tokens = [credential_issue(AccessToken, user=UserFactory())[1] for _ in range(CALLERS)]
    start = timezone.now()
    body = {
        "name": "Shared session",
        "simulationName": f"Sim {round_}",
        "email": "user@example.com",
        "sessionTemplateId": template.pk,
        "machineGroup": 1,
        "timeWindowSeconds": 300,
    }

    def call(index: int) -> httpx.Response:
        # Every caller starts a little later, all inside the window.
        payload = {**body, "startTimeUtc": (start + timezone.timedelta(seconds=index)).isoformat()}
        return httpx.post(
            f"{live_url}/api/v2/projects/{project.pk}/sessions/shared",
            json=payload,
            headers={"Authorization": f"Bearer {tokens[index]}"},
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        responses = list(pool.map(call, range(CALLERS)))

    assert [r.status_code for r in responses].count(201) == 1
    assert {r.json()["id"] for r in responses} == {str(Session.objects.get(is_shared=True).pk)}


def test_a_client_that_disconnects_mid_upload_leaves_nothing_behind(live_url, project, template):
    import socket
    import time
    from urllib.parse import urlsplit

    from django.core.files.storage import default_storage

    from sessions_app.models import NodeInstance, NodeOutput
    from sessions_app.services import session_create

    session = session_create(user=project.owner, project=project, session_template=template, name="upload")
    node = NodeInstance.objects.get(session=session, type="InputNode")
    token = credential_issue(AccessToken, user=project.owner)[1]
    url = urlsplit(live_url)
    head = (
        f"POST /api/v2/node_instances/{node.pk}/outputs HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n"
    )

    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(head.encode() + b"x" * (5 * 1024 * 1024))  # a tenth of what was announced
    time.sleep(1)

    assert NodeOutput.objects.count() == 0
    folder = f"node-outputs/raw/{session.pk}"
    assert not default_storage.exists(folder)
