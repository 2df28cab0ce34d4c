"""The web process's lanes (heatportal/lanes.py): which middleware a path gets, bodies streamed
in and out of the thread pool, HEAD without a body."""

import asyncio
import hashlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from heatportal.lanes import INLINE_BODY_MAX, WSGILane

pytestmark = pytest.mark.django_db(transaction=True)


def test_api_paths_skip_the_page_middleware_and_pages_keep_it(live_url):
    api = httpx.get(f"{live_url}/api/v2/health")
    page = httpx.get(f"{live_url}/login/")

    assert api.status_code == 200 and page.status_code == 200
    # Security headers on both; sessions, CSRF cookies and frame options only on pages.
    assert api.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in api.headers and "cookie" not in api.headers.get("vary", "").lower()
    assert "csrftoken" in page.cookies and page.headers["x-frame-options"] == "DENY"


def test_the_crowd_api_takes_the_async_lane_and_answers_in_its_shape(live_url):
    response = httpx.get(f"{live_url}/v1/requests/unknown", headers={"X-Heat-API-Key": "nope"})

    body = response.json()
    assert response.status_code >= 400 and body["status"] == "error" and body["code"] == response.status_code
    assert "set-cookie" not in response.headers


def test_head_answers_without_a_body(live_url):
    response = httpx.head(f"{live_url}/api/v2/health")

    assert response.status_code == 200 and response.content == b""


def _drive(lane, scope: dict, chunks: list[bytes], events: list[str]) -> list[dict]:
    """Run one request through ``lane``, noting each received chunk in ``events``; returns
    what the lane sent."""
    sent: list[dict] = []

    async def main():
        pending = list(chunks)

        async def receive():
            chunk = pending.pop(0)
            events.append("received")
            return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

        async def send(message):
            sent.append(message)

        await lane(scope, receive, send)

    asyncio.run(main())
    return sent


def _scope(method: str, length: int | None) -> dict:
    headers = [(b"content-type", b"application/octet-stream")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http", "method": method, "path": "/x", "query_string": b"", "headers": headers}


def test_a_large_body_is_streamed_to_the_view_as_it_reads_it():
    events: list[str] = []

    def app(environ, start_response):
        digest, size = hashlib.sha256(), 0
        while chunk := environ["wsgi.input"].read(65536):
            events.append("read")
            digest.update(chunk)
            size += len(chunk)
        start_response("201 Created", [("Content-Type", "text/plain")])
        return [f"{size} {digest.hexdigest()}".encode()]

    chunks = [bytes([n]) * 200_000 for n in range(8)]  # 1.6 MB in 8 messages
    body = b"".join(chunks)
    assert len(body) > INLINE_BODY_MAX
    with ThreadPoolExecutor(2) as executor:
        sent = _drive(WSGILane(app, executor), _scope("POST", len(body)), chunks, events)

    assert sent[0]["status"] == 201
    assert sent[1]["body"].decode() == f"{len(body)} {hashlib.sha256(body).hexdigest()}"
    # The view read the first chunks before the last one had been received.
    assert events.count("received") == len(chunks)
    assert events.index("read") < len(events) - 1 - events[::-1].index("received")


def test_a_small_body_is_read_before_the_view_runs_and_a_streaming_response_is_relayed_in_order():
    class Streaming(list):
        streaming = True

        def close(self):
            pass

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/csv")])
        return Streaming([environ["wsgi.input"].read(), b"a,b\n", b"1,2\n"])

    with ThreadPoolExecutor(1) as executor:
        sent = _drive(WSGILane(app, executor), _scope("POST", 5), [b"hello"], [])

    assert sent[0]["status"] == 200 and sent[0]["headers"] == [(b"content-type", b"text/csv")]
    assert [message["body"] for message in sent[1:]] == [b"hello", b"a,b\n", b"1,2\n", b""]
    assert [message.get("more_body", False) for message in sent[1:]] == [True, True, True, False]


def test_a_path_beyond_latin_1_reaches_the_view(live_url):
    # WSGI carries the path as latin-1 text: the lane re-encodes ASGI's decoded path.
    response = httpx.get(
        f"{live_url}/api/v1/sessions/%EC%AB%9B%F0%96%9A%B0/scenarios", headers={"Authorization": "Bearer x"}
    )

    assert response.status_code == 401 and response.json() == {"detail": "Unauthorized"}


def test_a_multipart_body_without_a_boundary_is_a_4xx_in_the_family_shape(live_url):
    response = httpx.post(
        f"{live_url}/auth/login", content=b"x", headers={"Content-Type": "multipart/form-data"}
    )

    assert response.status_code == 400
    assert response.json()["status"] == "error" and "multipart" in response.json()["message"]


@pytest.fixture
def granian_lane(tmp_path):
    """tests/heatportal/granian_lane_app.py served by a real granian process."""
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.helpers import ROOT

    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    command = [str(Path(sys.executable).parent / "granian"), "--interface", "asgi", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", "1", "tests.heatportal.granian_lane_app:application"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "heatportal.settings.base"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.mark.parametrize("chunked", [False, True])
def test_under_granian_a_large_body_streams_in_and_a_streaming_response_streams_out(granian_lane, chunked):
    body = bytes(range(256)) * 8192  # 2 MiB, beyond INLINE_BODY_MAX
    content = iter([body[:1_000_000], body[1_000_000:]]) if chunked else body

    posted = httpx.post(granian_lane, content=content, timeout=30)
    streamed = httpx.get(f"{granian_lane}/?chunks=5", timeout=30)

    assert posted.status_code == 200
    assert posted.text == f"{len(body)} {hashlib.sha256(body).hexdigest()}"
    assert streamed.status_code == 200
    assert streamed.content == b"".join(bytes([n]) * 100_000 for n in range(5))


def test_only_djangos_own_receivers_listen_to_request_started():
    """The API handlers skip request_started (heatportal/lanes.py, DJANGO_REQUEST_STARTED):
    safe while only Django's own receivers listen. Anything connected later must be looked at
    there: it would not run on API requests."""
    from django.core import signals

    from heatportal.lanes import DJANGO_REQUEST_STARTED

    names = {receiver().__name__ for _key, receiver, *_ in signals.request_started.receivers}
    assert names == set(DJANGO_REQUEST_STARTED)
