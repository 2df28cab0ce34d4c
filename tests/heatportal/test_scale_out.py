"""Scale-out: two web processes (uvicorn) and two Celery workers, each a process of its own,
against one PostgreSQL + Redis. The processes share nothing but the database and Redis: they
listen on separate loopback ports of this machine (not separate network namespaces).

- a client blocking on web A (`?block=30`) is woken when a cruncher answers through web B;
- concurrent shared-session joins spread over both web processes give one session;
- two workers never run two scenarios of one session at once.

Runs only on PostgreSQL + Redis (`.ci/run` runs the suite that way); the embedded default is one
machine's SQLite file and filesystem broker, which is not what scaling out means.
"""

import itertools
import os
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from crowd_app.models import CrowdRequest
from crowd_app.services import crowd_account_create, crowd_api_key_create
from heatportal.accounts.models import AccessToken
from heatportal.credentials import credential_issue
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


def free_port(offset: int) -> int:
    """``SCALE_OUT_PORT`` (+ offset) when set, else a port the system has free."""
    base = int(os.environ.get("SCALE_OUT_PORT", "0"))
    if base:
        return base + offset
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WebProcess:
    """`uvicorn heatportal.asgi:application` in a process of its own, on the test database."""

    def __init__(self, name: str, env: dict, log_dir, offset: int):
        self.name = name
        port = free_port(offset)
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(log_dir / f"{name}.log", "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "heatportal.asgi:application", "--host", "127.0.0.1",
                "--port", str(port), "--lifespan", "off", "--no-access-log", "--log-level", "warning",
            ],
            cwd=settings.BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{name} did not start; see {self.log.name}")
            try:
                if httpx.get(f"{self.url}/api/v2/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def webs(celery_workers, tmp_path_factory):
    """Web A and web B; the workers' environment points them at the test database."""
    log_dir = tmp_path_factory.mktemp("webs")
    env = {**celery_workers.env, "CROWD_RATE_LIMIT_PER_MINUTE": "0"}
    started = []
    try:
        for offset, name in enumerate(("web-a", "web-b")):
            started.append(WebProcess(name, env, log_dir, offset))
        yield started
    finally:
        for web in started:
            web.stop()


@pytest.fixture
def two_workers(celery_workers):
    """Two worker processes of concurrency 1 each, and no other worker on the broker."""
    celery_workers.stop_all()
    names = [celery_workers.start(concurrency=1) for _ in range(2)]
    yield names
    for name in names:
        celery_workers.stop(name)


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
        assert taken.status_code == 302 and taken.headers["location"].endswith(
            f"/requests/work/{request_id}/"
        )
        task_page = f"/requests/work/{request_id}/"
        answered = browser.post(
            task_page, data={"text": "blue", "csrfmiddlewaretoken": csrf_token(browser, task_page)}
        )
        assert answered.status_code == 302 and answered.headers["location"].endswith("/requests/work/")
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
    assert [scenario.status for scenario in scenarios] == [Scenario.Status.COMPLETE] * 8
    assert most_in_session == {"main": 1, "other": 1}
    assert most_overall == 2  # both workers were busy at once: one scenario of each session
    assert {scenario.worker for scenario in scenarios} == set(two_workers)
    for session in (RunnerSession.objects.get(display_name="main"), other):
        runs = [scenario for scenario in scenarios if scenario.session_id == session.pk]
        for earlier, later in itertools.pairwise(runs):
            assert earlier.finished_at <= later.started_at, (earlier.tag, later.tag)
