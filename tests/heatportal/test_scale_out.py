"""Scale-out: two web processes (uvicorn) and two Celery workers, each a process of its own,
against one PostgreSQL + Redis:

- a client blocking on web A (`?block=30`) is woken when a cruncher answers through web B;
- concurrent shared-session joins spread over both web processes give one session;
- two workers never run two scenarios of one session at once.

Where the test runs as root and `ip netns` works (CI), each of the four processes is a host of
its own: a network namespace with its own address on a bridge, reaching PostgreSQL and Redis
through a forwarder on the bridge's address (they listen on loopback only). Elsewhere the four
processes share loopback, on separate ports. The test prints which.

Runs only on PostgreSQL + Redis (`.ci/run` runs the suite that way); the embedded default is one
machine's SQLite file and filesystem broker, which is not what scaling out means.
"""

import asyncio
import contextlib
import itertools
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from crowd_app.models import CrowdRequest
from crowd_app.services import crowd_account_create, crowd_api_key_create
from heatportal.accounts.models import AccessToken
from heatportal.credentials import credential_issue
from heatportal.health import workers_health
from scenarios_app import services as runner
from scenarios_app.models import RunnerSession, Scenario
from sessions_app.models import Project, Session
from tests.factories import PASSWORD, UserFactory, documents_session_template

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"] or not settings.REDIS_URL,
        reason="scale-out needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)",
    ),
]

IP = shutil.which("ip")
ROLES = ("web-a", "web-b", "worker-1", "worker-2")


class Forwarder:
    """TCP from the bridge's address to a service that listens on loopback only."""

    def __init__(self, host: str, port: int, target: tuple[str, int]):
        self.loop = asyncio.new_event_loop()
        self.target = target
        self.server = self.loop.run_until_complete(asyncio.start_server(self._connect, host, port))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def _connect(self, reader, writer) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))

    @staticmethod
    async def _pipe(reader, writer) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


class Network:
    """Where the four processes run and how they reach each other and the services."""

    def __init__(self):
        tag = f"hs{os.getpid() % 100000}"
        self.bridge = f"{tag}br"
        self.namespaces = {role: f"{tag}-{role}" for role in ROLES}
        self.veths = {role: f"{tag}v{number}" for number, role in enumerate(ROLES)}
        subnet = f"10.231.{os.getpid() % 200 + 20}"
        self.gateway = f"{subnet}.1"
        self.addresses = {role: f"{subnet}.{10 + number}" for number, role in enumerate(ROLES)}
        self.forwarders: list[Forwarder] = []
        self.isolated = False

    def create(self) -> None:
        """Namespaces on a bridge, or loopback when that is not possible here."""
        if os.geteuid() != 0 or IP is None:
            return
        try:
            self._ip("link", "add", self.bridge, "type", "bridge")
            self._ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
            self._ip("link", "set", self.bridge, "up")
            for role, namespace in self.namespaces.items():
                self._ip("netns", "add", namespace)
                self._ip(
                    "link",
                    "add",
                    self.veths[role],
                    "type",
                    "veth",
                    "peer",
                    "name",
                    "eth0",
                    "netns",
                    namespace,
                )
                self._ip("link", "set", self.veths[role], "master", self.bridge, "up")
                self._ip("-n", namespace, "addr", "add", f"{self.addresses[role]}/24", "dev", "eth0")
                self._ip("-n", namespace, "link", "set", "eth0", "up")
                self._ip("-n", namespace, "link", "set", "lo", "up")
            for url in (settings.DATABASES["default"], settings.REDIS_URL):
                target = (url["HOST"], int(url["PORT"] or 5432)) if isinstance(url, dict) else _host_port(url)
                self.forwarders.append(Forwarder(self.gateway, target[1], target))
        except (OSError, subprocess.CalledProcessError):
            self.destroy()
            return
        self.isolated = True

    def destroy(self) -> None:
        for forwarder in self.forwarders:
            forwarder.close()
        self.forwarders.clear()
        for namespace in self.namespaces.values():
            subprocess.run([IP, "netns", "del", namespace], capture_output=True, check=False)
        subprocess.run([IP, "link", "del", self.bridge], capture_output=True, check=False)
        self.isolated = False

    @staticmethod
    def _ip(*argv: str) -> None:
        subprocess.run([IP, *argv], capture_output=True, check=True)

    def describe(self) -> str:
        if self.isolated:
            hosts = ", ".join(f"{role} {address}" for role, address in self.addresses.items())
            return f"network namespaces on bridge {self.bridge}: {hosts}; services via {self.gateway}"
        return "loopback (no network namespaces here): separate ports"

    def command(self, role: str, argv: list[str]) -> list[str]:
        return [IP, "netns", "exec", self.namespaces[role], *argv] if self.isolated else argv

    def listen(self, role: str, offset: int) -> tuple[str, int]:
        """The address and port the role's server listens on."""
        if self.isolated:
            return self.addresses[role], 8000
        base = int(os.environ.get("SCALE_OUT_PORT", "0"))  # a port range of one's own, if wanted
        if base:
            return "127.0.0.1", base + offset
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return "127.0.0.1", probe.getsockname()[1]

    def env(self, env: dict) -> dict:
        """The services' URLs as seen from inside a namespace: the bridge's address."""
        if not self.isolated:
            return env
        moved = dict(env)
        for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
            if moved.get(name):
                parts = urlsplit(moved[name])
                netloc = parts.netloc.rsplit("@", 1)
                host = f"{self.gateway}:{parts.port}" if parts.port else self.gateway
                moved[name] = parts._replace(
                    netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host
                ).geturl()
        return moved


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port or 6379


class Process:
    """A web or worker process of its own, on the test database; its output goes to a file."""

    def __init__(self, network: Network, role: str, argv: list[str], env: dict, log_dir):
        self.role = role
        self.log = open(log_dir / f"{role}.log", "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            network.command(role, argv), cwd=settings.BASE_DIR, env=network.env(env), stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_until(self, ready, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.role} did not start; see {self.log.name}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def network():
    network = Network()
    network.create()
    print(f"\nscale-out topology: {network.describe()}")
    yield network
    network.destroy()


@pytest.fixture(scope="module")
def webs(network, celery_workers, tmp_path_factory):
    """Web A and web B (each with ``.url``); the workers' environment points them at the test
    database."""
    log_dir = tmp_path_factory.mktemp("webs")
    env = {
        **celery_workers.env,
        "CROWD_RATE_LIMIT_PER_MINUTE": "0",
        "DJANGO_ALLOWED_HOSTS": ",".join(["127.0.0.1", *network.addresses.values()]),
    }
    started = []
    try:
        for offset, role in enumerate(("web-a", "web-b")):
            host, port = network.listen(role, offset)
            argv = [
                sys.executable, "-m", "uvicorn", "heatportal.asgi:application", "--host", host,
                "--port", str(port), "--lifespan", "off", "--no-access-log", "--log-level", "warning",
            ]  # fmt: skip
            web = Process(network, role, argv, env, log_dir)
            started.append(web)
            web.url = f"http://{host}:{port}"
            web.wait_until(lambda web=web: answers(f"{web.url}/api/v2/health"))
        yield started
    finally:
        for web in started:
            web.stop()


@pytest.fixture
def two_workers(network, celery_workers, tmp_path_factory):
    """Two worker processes of concurrency 1 each, and no other worker on the broker; yields
    their host names."""
    celery_workers.stop_all()
    log_dir = tmp_path_factory.mktemp("workers")
    started = {}
    try:
        for role in ("worker-1", "worker-2"):
            hostname = f"{role}-{uuid.uuid4().hex[:6]}@scale-out"
            argv = [
                sys.executable, "-m", "celery", "-A", "heatportal", "worker", "--hostname", hostname,
                "--concurrency", "1", "--queues", "celery,webhooks", "--loglevel", "INFO",
                "--without-mingle", "--without-gossip",
            ]  # fmt: skip
            started[hostname] = Process(network, role, argv, celery_workers.env, log_dir)
            started[hostname].wait_until(
                lambda hostname=hostname: hostname in workers_health(timeout=0.5).names
            )
        yield list(started)
    finally:
        for worker in started.values():
            worker.stop()


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {credential_issue(AccessToken, user=user)[1]}"}


def csrf_token(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def test_a_waiter_on_web_a_is_woken_when_a_cruncher_answers_through_web_b(webs):
    web_a, web_b = webs
    account = crowd_account_create(owner=UserFactory(), name="scale-out")
    _key, live_key = crowd_api_key_create(account=account)
    cruncher = UserFactory()
    headers = {"X-Heat-API-Key": live_key}
    created = httpx.post(
        f"{web_a.url}/v1/requests/free-text", json={"instruction": "Which colour?"}, headers=headers
    )
    assert created.status_code == 200 and created.json()["status"] == "pending"
    request_id = created.json()["id"]

    waited = {}

    def wait_on_web_a():
        response = httpx.get(f"{web_a.url}/v1/requests/{request_id}?block=30", headers=headers, timeout=40)
        waited.update(received=time.time(), response=response)

    waiter = threading.Thread(target=wait_on_web_a)
    waiter.start()
    with httpx.Client(base_url=web_b.url, timeout=30) as browser:
        form = {"username": cruncher.username, "password": PASSWORD}
        login = browser.post("/login/", data={**form, "csrfmiddlewaretoken": csrf_token(browser, "/login/")})
        assert login.status_code == 302
        time.sleep(1.0)  # the waiter is surely waiting by now
        assert waiter.is_alive()
        taken = browser.post(
            "/requests/work/", data={"csrfmiddlewaretoken": csrf_token(browser, "/requests/work/")}
        )
        assert taken.status_code == 303 and taken.headers["location"].endswith(
            f"/requests/work/{request_id}/"
        )
        task_page = f"/requests/work/{request_id}/"
        answered = browser.post(
            task_page, data={"text": "blue", "csrfmiddlewaretoken": csrf_token(browser, task_page)}
        )
        assert answered.status_code == 303 and answered.headers["location"].endswith("/requests/work/")
    waiter.join(timeout=40)

    body = waited["response"].json()
    assert waited["response"].status_code == 200
    assert body["status"] == "complete" and body["response"] == "blue"
    completed_at = CrowdRequest.objects.get(pk=request_id).completed_at.timestamp()
    latency = waited["received"] - completed_at
    print(f"web A's waiter woken {latency * 1000:.0f} ms after the answer through web B committed")
    assert latency < 2.0  # pub/sub across processes; without it the waiter would sleep its 30 s


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_shared_session_joins_over_both_web_processes_give_one_session(webs, round_):
    template = documents_session_template()
    project = Project.objects.create(title="Scale-out", owner=UserFactory(role="Instructor"))
    callers = 16
    headers = [bearer(UserFactory()) for _ in range(callers)]
    start = timezone.now()

    def join(index: int) -> httpx.Response:
        body = {
            "name": "Shared",
            "simulationName": f"Scale-out {round_}",
            "email": "sim@example.org",
            "sessionTemplateId": template.pk,
            "machineGroup": 1,
            "startTimeUtc": (start + timezone.timedelta(seconds=index)).isoformat(),
        }
        web = webs[index % 2]
        return httpx.post(
            f"{web.url}/api/v2/projects/{project.pk}/sessions/shared",
            json=body,
            headers=headers[index],
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=callers) as pool:
        responses = list(pool.map(join, range(callers)))

    assert sorted(response.status_code for response in responses) == [200] * (callers - 1) + [201]
    session = Session.objects.get(is_shared=True)
    assert {response.json()["id"] for response in responses} == {str(session.pk)}


def test_two_workers_never_run_two_scenarios_of_one_session_at_once(webs, two_workers):
    runner.session_ensure_default()
    other = runner.session_create(display_name="other", with_master_data=True)
    headers = bearer(UserFactory())
    ids = {"main": [], "other": []}
    for index in range(4):
        for sid in ids:
            web = webs[index % 2]
            body = {
                "tag": f"run-{index}",
                "dataset_key": "Master data",
                "algo_name": "Slow",
                "algo_params": {"duration": 1},
            }
            created = httpx.post(f"{web.url}/api/v1/sessions/{sid}/scenarios", json=body, headers=headers)
            assert created.status_code == 201, created.text
            ids[sid].append(created.json()["id"])
    for index in range(4):
        for sid in ids:
            web = webs[(index + 1) % 2]  # run through the other web process than the one that created it
            run = httpx.post(
                f"{web.url}/api/v1/sessions/{sid}/scenarios/{ids[sid][index]}/run", headers=headers
            )
            assert run.status_code == 202, run.text

    most_in_session = {"main": 0, "other": 0}
    most_overall = 0
    every_id = ids["main"] + ids["other"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        rows = list(Scenario.objects.filter(pk__in=every_id).values_list("session__display_name", "status"))
        processing = [name for name, status in rows if status == Scenario.Status.PROCESSING]
        most_overall = max(most_overall, len(processing))
        for sid in most_in_session:
            most_in_session[sid] = max(most_in_session[sid], processing.count(sid))
        if all(status in (Scenario.Status.COMPLETE, Scenario.Status.FAILED) for _name, status in rows):
            break
        time.sleep(0.02)

    scenarios = list(Scenario.objects.filter(pk__in=every_id).order_by("started_at"))
    print(f"processing at once: at most {most_in_session} per session, {most_overall} overall")
    assert [scenario.status for scenario in scenarios] == [Scenario.Status.COMPLETE] * 8
    assert most_in_session == {"main": 1, "other": 1}
    assert most_overall == 2  # both workers were busy at once: one scenario of each session
    assert {scenario.worker for scenario in scenarios} == set(two_workers)
    for session in (RunnerSession.objects.get(display_name="main"), other):
        runs = [scenario for scenario in scenarios if scenario.session_id == session.pk]
        for earlier, later in itertools.pairwise(runs):
            assert earlier.finished_at <= later.started_at, (earlier.tag, later.tag)
