"""Fixtures shared by the whole suite: factories, a real Celery worker, a real browser."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import uvicorn
from django.db import connection, connections

from heatportal.health import workers_health
from tests.factories import PASSWORD, UserFactory
from tests.helpers import ROOT, browser_sign_in

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


BROWSER_FIXTURES = {"browser", "page", "sign_in"}


def pytest_collection_modifyitems(config, items):
    """One naming rule for page tests (docs/code.md): Playwright only in ``test_browser*.py``,
    where every test is marked ``browser``; Django's client in ``test_views*.py``."""
    misplaced = []
    for item in items:
        marked = item.get_closest_marker("browser") is not None
        uses_a_browser = bool(BROWSER_FIXTURES.intersection(getattr(item, "fixturenames", ())))
        if item.path.name.startswith("test_browser"):
            if not marked:
                misplaced.append(item.nodeid)
        elif marked or uses_a_browser:
            misplaced.append(item.nodeid)
    if misplaced:
        raise pytest.UsageError(
            "Browser tests belong in test_browser*.py (marked browser), and only there:\n  "
            + "\n  ".join(misplaced)
        )


def pytest_unconfigure(config):
    """Remove this run's data folder (heatportal/settings/test.py: one per run)."""
    from django.conf import settings

    if not settings.configured:
        return
    data_dir = Path(settings.DATA_DIR)
    if data_dir.parent == ROOT / ".test-data" and data_dir.name == f"run-{os.getpid()}":
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _close_database_connections(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end the PostgreSQL connections that other threads
    keep open to it (the live server's web threads keep theirs, as in production), and close
    pools (DATABASE_POOL_MAX_SIZE): PostgreSQL refuses to drop a database in use."""
    yield
    with django_db_blocker.unblock():
        for connection_ in connections.all():
            if getattr(connection_, "pool", None) is not None:
                connection_.close_pool()
            elif connection_.vendor == "postgresql":
                with connection_.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )


@pytest.fixture(autouse=True)
def _cache_of_its_own(settings):
    """Each test sees an empty cache (throttling counters live there) without flushing a
    shared Redis: its keys get a prefix of their own."""
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": uuid.uuid4().hex} for name, config in settings.CACHES.items()
    }


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", role="Admin", is_staff=True, is_superuser=True)


# --- Celery workers ---------------------------------------------------------------------------


class CeleryWorkers:
    """Real ``celery worker`` processes on the configured broker, using the test database."""

    def __init__(self, database_name: str, log_dir: Path):
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "heatportal.settings.test",
            "HEAT_TEST_DATABASE_NAME": str(database_name),
            "PYTHONUNBUFFERED": "1",
        }
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self.default: str | None = None

    def start(
        self,
        *,
        concurrency: int = 1,
        queues: str = "celery,webhooks,sweeps",
        pool: str = "prefork",
        timeout: float = 60,
    ) -> str:
        """A worker on ``queues`` (by default all of them: the sweeps too, which ``make run``
        gives a worker of their own); ``pool="solo"`` is how that sweeps worker runs."""
        hostname = f"test-{uuid.uuid4().hex[:8]}@localhost"
        log = open(self.log_dir / f"{hostname}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.processes[hostname] = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "heatportal", "worker",
                "--hostname", hostname, "--concurrency", str(concurrency), "--queues", queues,
                "--pool", pool, "--loglevel", "INFO", "--without-mingle", "--without-gossip",
            ],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while hostname not in workers_health(timeout=0.5).names:
            if self.processes[hostname].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {hostname} did not start; see {log.name}")
        return hostname

    def stop(self, hostname: str) -> None:
        process = self.processes.pop(hostname)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if hostname == self.default:
            self.default = None

    def stop_all(self) -> None:
        for hostname in list(self.processes):
            self.stop(hostname)

    def ensure_default(self) -> str:
        if self.default is None:
            self.default = self.start()
        return self.default


@pytest.fixture(scope="session")
def celery_workers(django_db_setup, django_db_blocker, tmp_path_factory):
    from heatportal.celery import app

    with django_db_blocker.unblock():
        database_name = connection.settings_dict["NAME"]
    app.control.purge()  # nothing left over from an earlier run
    workers = CeleryWorkers(database_name, tmp_path_factory.mktemp("celery"))
    yield workers
    workers.stop_all()


@pytest.fixture
def celery_worker(celery_workers, transactional_db) -> str:
    """The host name of a running worker. Its tasks see what the test commits."""
    return celery_workers.ensure_default()


# --- Browser ----------------------------------------------------------------------------------


@pytest.fixture
def browser():
    """Chromium for one test. Not shared across tests: while Playwright's sync API is active, its
    event loop runs in the main thread and Django's test client (async_to_sync) refuses to run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PortalServer:
    """The portal's ASGI application (heatportal.asgi: its lanes, as in production) served by
    uvicorn in a thread (production's granian does not run in a thread)."""

    def __init__(self):
        from heatportal.asgi import application

        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(application, lifespan="off", log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def settle(self, timeout: float = 10) -> None:
        """Wait until no request is in flight, so that a page's late request (a poll, an
        iframe) does not run during the next test, where it may not touch the database."""
        deadline = time.monotonic() + timeout
        while self.server.server_state.tasks and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.socket.close()


@pytest.fixture(scope="session")
def portal_server(django_db_setup, django_db_blocker):
    server = PortalServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live_url(portal_server, transactional_db):
    """Base URL of the running portal; what the test commits, it serves."""
    yield portal_server.url
    portal_server.settle()


@pytest.fixture
def page(browser, live_url):
    context = browser.new_context(base_url=live_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def sign_in(page):
    """Sign a user in through the login form; returns the page on the dashboard."""

    def sign_in(user, password: str = PASSWORD):
        return browser_sign_in(page, user, password)

    return sign_in
