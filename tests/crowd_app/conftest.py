import os

import pytest

from crowd_app.demo import SAMPLE_TEST_KEY
from crowd_app.services import crowd_account_create, crowd_api_key_create
from tests.crowd_app.helpers import CrowdClient
from tests.factories import UserFactory

# Worker processes started by the suite deliver webhooks to receivers on 127.0.0.1 (CONTRACT §5:
# tests turn the private-address guard off). In-process code gets it from the settings fixture.
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE", "true")
os.environ.setdefault("CROWD_STAGING_DELAY", "0.2")
os.environ.setdefault("WEBHOOK_MAX_ATTEMPTS", "3")
os.environ.setdefault("WEBHOOK_BACKOFF_BASE", "0.2")
os.environ.setdefault("WEBHOOK_TIMEOUT", "2")
# Celery's full jitter may wait 0 s: off, so that the retry tests see the backoff's lower bound.
os.environ.setdefault("WEBHOOK_RETRY_JITTER", "false")


@pytest.fixture(autouse=True)
def _crowd_settings(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.CROWD_STAGING_DELAY = 0.2
    settings.WEBHOOK_BACKOFF_BASE = 0.2
    settings.WEBHOOK_MAX_ATTEMPTS = 3


@pytest.fixture
def account(transactional_db):
    return crowd_account_create(owner=UserFactory(), name="acme")


@pytest.fixture
def test_key(account):
    """The document's sample key, installed on ``account``."""
    crowd_api_key_create(account=account, test=True, value=SAMPLE_TEST_KEY)
    return SAMPLE_TEST_KEY


@pytest.fixture
def live_key(account):
    return crowd_api_key_create(account=account, test=False)[1]


@pytest.fixture
def api(test_key):
    return CrowdClient(test_key)


@pytest.fixture
def live_api(live_key):
    return CrowdClient(live_key)


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it is sent; ``statuses`` scripts its
    answers (the last one repeats)."""

    def __init__(self, statuses=(200,)):
        import http.server
        import threading

        self.received: list[tuple[dict, bytes, float]] = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                import time

                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.received.append((dict(self.headers.items()), body, time.time()))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count, timeout=20.0):
        import time

        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def make_receiver():
    servers = []

    def make(statuses):
        servers.append(Receiver(statuses))
        return servers[-1]

    yield make
    for server in servers:
        server.close()
