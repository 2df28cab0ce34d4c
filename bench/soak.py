"""Soak test: start the portal the README way (`make run`), send minutes of mixed traffic across
every API family and the portal pages, then check that nothing failed. Exits 1 on any failure.

    .venv/bin/python bench/soak.py [--duration 180] [--port 8766]
    .venv/bin/python bench/soak.py --database-url postgres://postgres@127.0.0.1:5432/heat_soak \\
        --redis-url redis://127.0.0.1:6379/14 --recreate-database

Without --database-url/--redis-url the portal runs on the embedded default (SQLite, filesystem
broker) in a fresh temporary HEAT_DATA_DIR, exactly as `make run` on a fresh clone does.

The portal is a black box here: everything goes through HTTP, except the sites credentials,
which come from `manage.py create_site` and `create_site_api_key` as the README says. Clients
(threads, one httpx client each):

- crowd: blocking `POST /v1/requests/{type}?block=30` with the sample test key (the worker's
  simulated crunchers answer them), now and then a `GET /v1/requests/{id}`;
- scenarios: create a `Slow` (duration 1) scenario in session `main` on `Master data`, run it,
  poll its status until it ends;
- v2: create a session, upload a node output, list and download it (bytes checked), join a
  shared session, close the session;
- sites: gateway telemetry, schedules and site; public API sites list, site, schedule batches;
- pages: sign in through the login form, then GET the portal's pages and the pages they link to.

Pass criteria, each printed with its figure: no 5xx, no connection error or timeout, no
unexpected status; the processes found at start (web, workers, beat: by command line, among the
processes of the run) alive and unchanged at the end; no crash line in the run log; every crowd
request complete and every scenario run complete after a bounded drain.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
SAMPLE_TEST_KEY = "test_e53bbf19fdd077eda1cd933a54ebe987"  # installed by seed_demo (document 004)
DEMO_PASSWORDS = {"admin": "heat-admin", "instructor": "heat-instructor", "trainee": "heat-trainee"}
BLOCK = 30
# What in the run log (and the data folder's *.log) means a process crashed or stopped (the logs
# are read up to the moment the soak stops the portal, so the shutdown's own lines do not count).
CRASH_PATTERNS = re.compile(
    r"Unrecoverable error|Traceback|exited|WorkerLostError|CRITICAL|Internal Server Error"
)


# --- Figures ----------------------------------------------------------------------------------


@dataclass
class FamilyStats:
    requests: int = 0
    server_errors: int = 0  # 5xx
    connection_errors: int = 0  # refused, reset, timeouts
    unexpected: int = 0  # a status the call does not expect
    latencies: list[float] = field(default_factory=list)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.families: dict[str, FamilyStats] = defaultdict(FamilyStats)
        self.ops: dict[str, FamilyStats] = defaultdict(FamilyStats)
        # "family op: kind" -> [count, time and detail of the first one]
        self.failures: dict[str, list] = {}

    def record(self, family: str, op: str, latency: float, kind: str | None, detail: str = "") -> None:
        with self.lock:
            for stats in (self.families[family], self.ops[f"{family} {op}"]):
                stats.requests += 1
                stats.latencies.append(latency)
                if kind == "5xx":
                    stats.server_errors += 1
                elif kind == "connection":
                    stats.connection_errors += 1
                elif kind == "unexpected":
                    stats.unexpected += 1
            if kind:
                first = self.failures.setdefault(
                    f"{family} {op}: {kind}", [0, f"{time.strftime('%H:%M:%S')} {detail}"]
                )
                first[0] += 1


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Failed(Exception):
    """A call did not give what the flow needs; the client starts its flow again."""


class Client:
    """One simulated client: an httpx client whose every call is recorded."""

    def __init__(
        self, base: str, family: str, stats: Stats, stop: threading.Event, timeout: float = BLOCK + 15
    ):
        self.http = httpx.Client(base_url=base, timeout=timeout, follow_redirects=False)
        self.family = family
        self.stats = stats
        self.stop = stop

    def call(self, op: str, method: str, url: str, expect=(200,), **kwargs) -> httpx.Response:
        started = time.monotonic()
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.TransportError as error:  # refused, reset, timeouts
            self.stats.record(
                self.family, op, time.monotonic() - started, "connection", f"{type(error).__name__}: {error}"
            )
            self.stop.wait(0.5)  # a dead server would otherwise be hammered
            raise Failed(op) from error
        latency = time.monotonic() - started
        if response.status_code >= 500:
            kind = "5xx"
        elif response.status_code not in expect:
            kind = "unexpected"
        else:
            kind = None
        detail = f"{method} {url} -> {response.status_code} {response.text[:200]!r}" if kind else ""
        self.stats.record(self.family, op, latency, kind, detail)
        if kind:
            raise Failed(op)
        return response

    def pause(self, low: float, high: float) -> None:
        self.stop.wait(random.uniform(low, high))


# --- The portal under test --------------------------------------------------------------------


def proc_table() -> dict[int, tuple[int, str, list[str], int]]:
    """pid -> (ppid, state, argv, start time) of every process, read from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        table[int(entry)] = (
            int(fields[1]),
            fields[0],
            [arg.decode(errors="replace") for arg in argv if arg],
            int(fields[19]),
        )
    return table


def role_of(argv: list[str]) -> str | None:
    """web / worker[queues] / beat from a command line, whatever started it (honcho, a
    supervisor, by hand); shells that wrap a command are not the process itself."""
    if not argv or Path(argv[0]).name in {"sh", "bash", "dash"}:
        return None
    programs = [Path(arg).name for arg in argv[:3]]
    if {"granian", "uvicorn", "gunicorn"} & set(programs):
        return "web"
    if "celery" in programs:
        if "beat" in argv:
            return "beat"
        if "worker" in argv:
            queues = "celery"
            for flag in ("--queues", "-Q"):
                if flag in argv[:-1]:
                    queues = argv[argv.index(flag) + 1]
            return f"worker[{queues}]"
    return None


def environ_has(pid: int, entry: bytes) -> bool:
    try:
        return entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


@dataclass(frozen=True)
class PortalProcess:
    role: str
    pid: int
    started: int  # /proc start time: a new process under a reused pid is not the same one
    argv: str


def portal_processes(leader: int, data_dir: str) -> list[PortalProcess]:
    """The run's main processes: descendants of `make run`, or processes started with this run's
    HEAT_DATA_DIR (a supervisor may detach them). Pool children (a process of the same role
    whose parent has that role) are left out: the pool replaces them itself."""
    table = proc_table()
    children = defaultdict(list)
    for pid, (ppid, *_rest) in table.items():
        children[ppid].append(pid)
    ours, todo = set(), [leader]
    while todo:
        pid = todo.pop()
        ours.add(pid)
        todo.extend(children[pid])
    marker = f"HEAT_DATA_DIR={data_dir}".encode()
    found = []
    for pid, (ppid, state, argv, started) in table.items():
        role = role_of(argv)
        if role is None or state in "ZX" or (pid not in ours and not environ_has(pid, marker)):
            continue
        parent = table.get(ppid)
        if parent is not None and role_of(parent[2]) == role:
            continue
        found.append(PortalProcess(role, pid, started, " ".join(argv)))
    return sorted(found, key=lambda process: (process.role, process.pid))


def alive(process: PortalProcess) -> bool:
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] not in "ZX" and int(fields[19]) == process.started


class Portal:
    """`make run` in a process group of its own, with its log in a file."""

    def __init__(self, args):
        self.port = args.port
        self.base = f"http://127.0.0.1:{args.port}"
        self.data_dir = tempfile.mkdtemp(prefix="heat-soak-")
        self.log_path = Path(self.data_dir) / "run.log"
        self.env = {key: value for key, value in os.environ.items() if key not in {
            "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "S3_BUCKET", "DJANGO_SETTINGS_MODULE",
        }}  # fmt: skip
        self.env.update({"HEAT_DATA_DIR": self.data_dir, "PORT": str(args.port), "PYTHONUNBUFFERED": "1"})
        if args.database_url:
            self.env["DATABASE_URL"] = args.database_url
        if args.redis_url:
            self.env["REDIS_URL"] = args.redis_url
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "wb")  # noqa: SIM115 (the child holds it)
        self.process = subprocess.Popen(
            ["make", "run"],  # noqa: S607 (the README's command, from PATH)
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"make run exited with {self.process.returncode} before it was healthy")
            try:
                if httpx.get(f"{self.base}/health/", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise SystemExit(f"the portal was not healthy within {timeout:.0f} s")

    def manage(self, *argv: str) -> str:
        result = subprocess.run(
            [str(PYTHON), "manage.py", *argv],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"manage.py {' '.join(argv)} failed: {result.stderr.strip()}")
        return result.stdout

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def other_logs(self) -> list[str]:
        """Lines of the logs the portal's processes write into the data folder themselves (a
        supervisor's own log, say), each prefixed with its file's name."""
        lines = []
        for path in sorted(Path(self.data_dir).rglob("*.log")):
            if path != self.log_path:
                lines += [f"{path.name}: {line}" for line in path.read_text(errors="replace").splitlines()]
        return lines

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self._kill_group(signal.SIGKILL)  # whatever of it is left
            return
        self._kill_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._kill_group(signal.SIGKILL)
            self.process.wait()

    def _kill_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def cleanup(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)


def recreate_database(database_url: str, redis_url: str) -> None:
    """A fresh database and an empty Redis db, as on a fresh installation."""
    if database_url:
        import psycopg
        from psycopg import sql

        parts = urlsplit(database_url)
        name = parts.path.lstrip("/")
        maintenance = parts._replace(path="/postgres").geturl()
        with psycopg.connect(maintenance, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()


# --- Traffic ----------------------------------------------------------------------------------

CROWD_BODIES = [
    ("free-text", {"instruction": "Describe what you see", "tags": ["soak"]}),
    (
        "multiple-choice",
        {"instruction": "Is it violent?", "choices": ["no", "mild", "intense"], "max_answers": 1},
    ),
    ("rating", {"instruction": "How clear is it?", "rating_min": 0, "rating_max": 10}),
    (
        "free-text",
        {"instruction": "What number?", "validation": "number", "confidence": {"min_agreements": 2}},
    ),
    (
        "annotations",
        {
            "instruction": "Mark the faces",
            "attachments_type": "image",
            "attachments": ["https://example.org/picture.png"],
        },
    ),
]


class Shared:
    """What the clients leave for the drain and the report."""

    def __init__(self):
        self.lock = threading.Lock()
        self.crowd: dict[str, str] = {}  # request id -> last status seen
        self.scenarios: dict[str, str] = {}  # scenario id -> last status seen
        self.uploaded_bytes = 0

    def note(self, table: str, key: str, status: str) -> None:
        with self.lock:
            getattr(self, table)[key] = status.lower()  # the runner's statuses are lower case


def bearer(client: Client, username: str) -> dict:
    body = {"username": username, "password": DEMO_PASSWORDS[username], "rememberMe": False}
    token = client.call("auth login", "POST", "/auth/login", json=body).json()["accessToken"]
    return {"Authorization": f"Bearer {token}"}


def crowd_client(client: Client, shared: Shared, number: int) -> None:
    headers = {"X-Heat-API-Key": SAMPLE_TEST_KEY}
    mine: list[str] = []
    while not client.stop.is_set():
        try:
            kind, body = random.choice(CROWD_BODIES)
            response = client.call(
                "create+block", "POST", f"/v1/requests/{kind}?block={BLOCK}", json=body, headers=headers
            ).json()
            if response.get("status") not in {"pending", "complete"}:
                client.stats.record(client.family, "create+block", 0, "unexpected", f"answered {response}")
            else:
                shared.note("crowd", response["id"], response["status"])
                mine.append(response["id"])
            if mine and random.random() < 0.3:
                request_id = random.choice(mine[-20:])
                got = client.call("get", "GET", f"/v1/requests/{request_id}", headers=headers).json()
                shared.note("crowd", request_id, got["status"])
        except Failed:
            pass
        client.pause(0.1, 0.5)


def scenarios_client(client: Client, shared: Shared, number: int) -> None:
    headers = bearer(client, "admin")
    base = "/api/v1/sessions/main/scenarios"
    count = 0
    while not client.stop.is_set():
        try:
            count += 1
            body = {
                "tag": f"soak-{uuid.uuid4().hex[:8]}-{number}-{count}",
                "dataset_key": "Master data",
                "algo_name": "Slow",
                "algo_params": {"duration": 1},
            }
            scenario = client.call("create", "POST", base, expect=(201,), json=body, headers=headers).json()
            scenario_id = scenario["id"]
            shared.note("scenarios", scenario_id, scenario["status"])
            queued = client.call("run", "POST", f"{base}/{scenario_id}/run", expect=(202,), headers=headers)
            shared.note("scenarios", scenario_id, queued.json()["status"])
            while not client.stop.is_set():
                status = client.call("status", "GET", f"{base}/{scenario_id}/status", headers=headers).json()
                shared.note("scenarios", scenario_id, status["status"])
                if status["status"].lower() in {"complete", "failed"}:
                    if random.random() < 0.3:
                        client.call("get", "GET", f"{base}/{scenario_id}", headers=headers)
                    break
                client.stop.wait(0.5)
        except Failed:
            pass
        client.pause(0.2, 1.0)


def v2_client(client: Client, shared: Shared, number: int) -> None:
    headers = bearer(client, "instructor" if number % 2 == 0 else "trainee")
    run = uuid.uuid4().hex[:8]
    project = template = None
    while not client.stop.is_set():
        try:
            if project is None:
                project, template = v2_project_and_template(client, headers)
            body = {"name": f"soak {run}", "sessionTemplateId": template, "email": "soak@example.org"}
            session = client.call(
                "session create", "POST", f"/api/v2/projects/{project}/sessions", expect=(201,), json=body,
                headers=headers,
            ).json()  # fmt: skip
            node = next(n["id"] for n in session["nodeInstances"] if n["type"] == "InputNode")
            v2_output_round_trip(client, shared, headers, node)
            client.call("session get", "GET", f"/api/v2/sessions/{session['id']}", headers=headers)
            v2_shared_join(client, headers, project=project, template=template, run=run, number=number)
            client.call("user data", "GET", "/api/v2/user_data", headers=headers)
            client.call("config", "GET", "/api/v2/config?prefix=public_api_v1", headers=headers)
            client.call(
                "session close", "POST", f"/api/v2/sessions/{session['id']}/close", json={"reason": "soak"},
                headers=headers,
            )  # fmt: skip
        except Failed:
            pass
        client.pause(0.2, 0.8)


def v2_project_and_template(client: Client, headers: dict) -> tuple[str, str]:
    """The ids of seed_demo's "Sample Project" and "Default Template"."""
    projects = client.call("projects", "GET", "/api/v2/projects", headers=headers).json()
    project = next(p["id"] for p in projects if p["title"] == "Sample Project")
    templates = client.call("templates", "GET", "/api/v2/session_templates", headers=headers).json()
    template = next(t["id"] for t in templates if t["name"] == "Default Template")
    return project, template


def v2_output_round_trip(client: Client, shared: Shared, headers: dict, node: str) -> None:
    """Upload random bytes as ``node``'s output, then find it listed and download the same bytes."""
    data = random.randbytes(random.randint(1, 256) * 1024)
    output = client.call(
        "upload", "POST", f"/api/v2/node_instances/{node}/outputs", expect=(201,), content=data,
        headers={**headers, "Content-Type": "application/octet-stream"},
    ).json()  # fmt: skip
    if output["size"] != len(data) or output["sha256"] != hashlib.sha256(data).hexdigest():
        client.stats.record(client.family, "upload", 0, "unexpected", f"size/sha256 differ: {output}")
    with shared.lock:
        shared.uploaded_bytes += len(data)
    listed = client.call("outputs", "GET", f"/api/v2/node_instances/{node}/outputs", headers=headers)
    if output["id"] not in [item["id"] for item in listed.json()]:
        client.stats.record(client.family, "outputs", 0, "unexpected", "upload not listed")
    download = client.call("download", "GET", f"/api/v2/node_outputs/{output['id']}/data", headers=headers)
    if download.content != data:
        client.stats.record(client.family, "download", 0, "unexpected", "bytes differ")


def v2_shared_join(
    client: Client, headers: dict, *, project: str, template: str, run: str, number: int
) -> None:
    shared_body = {
        "name": "soak shared",
        "simulationName": f"soak {run}",
        "email": "soak@example.org",
        "sessionTemplateId": template,
        "startTimeUtc": datetime.now(UTC).isoformat(),
        "machineGroup": number,
        "timeWindowSeconds": 60,
    }
    client.call(
        "shared join", "POST", f"/api/v2/projects/{project}/sessions/shared", expect=(200, 201),
        json=shared_body, headers=headers,
    )  # fmt: skip


def sites_client(client: Client, shared: Shared, number: int, site_id: str, token: str, key: str) -> None:
    gateway = {"Authorization": f"Bearer {token}"}
    public = {"Authorization": f"Bearer {key}"}
    while not client.stop.is_set():
        try:
            now = datetime.now(UTC)
            telemetry = telemetry_body(now)
            client.call("telemetry", "POST", "/api/v1/gateway/telemetry", json=telemetry, headers=gateway)
            client.pause(0.1, 0.4)
            client.call("gateway schedules", "GET", "/api/v1/gateway/schedules", headers=gateway)
            client.call("gateway site", "GET", "/api/v1/gateway/site", headers=gateway)
            client.pause(0.1, 0.4)
            client.call("sites", "GET", "/api/v1/public/sites", headers=public)
            client.call("site", "GET", f"/api/v1/public/sites/{site_id}", headers=public)
            batch = schedule_batch(now)
            client.call(
                "schedules", "POST", f"/api/v1/public/sites/{site_id}/schedules", expect=(202,), json=batch,
                headers=public,
            )  # fmt: skip
        except Failed:
            pass
        client.pause(0.3, 1.0)


def telemetry_body(now: datetime) -> dict:
    """A gateway's report of grid, solar and battery at ``now``, random values."""
    return {
        "reportedAt": now.isoformat().replace("+00:00", "Z"),
        "assets": {
            "grid": {"activePowerkW": random.randint(-100, 200)},
            "solar": {"activePowerkW": random.randint(0, 180)},
            "bess": {
                "activePowerkW": random.randint(-80, 80),
                "soc": random.randint(10, 90),
                "availableStorageCapacitykWh": random.randint(50, 450),
            },
        },
    }


def schedule_batch(now: datetime) -> dict:
    """Schedules for grid, battery and solar in the hours after the next whole hour."""
    start = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)

    def entry(hours: int, value: float) -> dict:
        return {
            "startAt": (start + timedelta(hours=hours)).isoformat().replace("+00:00", "Z"),
            "endAt": (start + timedelta(hours=hours + 1)).isoformat().replace("+00:00", "Z"),
            "value": value,
        }

    return {
        "schedules": [
            {"asset": "grid", "type": "upperLimitkW", "entries": [entry(0, 150), entry(1, 120)]},
            {
                "asset": "bess",
                "type": "activePowerkW",
                "entries": [entry(0, random.randint(-50, 50))],
            },
            {"asset": "solar", "type": "solarCurtailmentPcnt", "entries": [entry(2, 20)]},
        ]
    }


PAGE_LINK = re.compile(r'href="(/[^"#?]*)"')
PAGE_ALLOWED = re.compile(
    r"^/(?:"
    r"|sessions/(?:|projects/\d+/|s/[0-9a-f-]{36}/|templates/|config/)"
    r"|sites/(?:|groups/\d+/|s/[0-9a-f-]{36}/)"
    r"|scenarios/(?:|s/[0-9a-f-]{36}/(?:data/[^/]+/|scenarios/[0-9a-f-]{36}/)?)"
    r"|requests/(?:|accounts/\d+/|r/[0-9a-f-]{36}/|work/)"
    r"|account/tokens/|api/docs/"
    r")$"
)
PAGES_START = [
    "/",
    "/sessions/",
    "/sites/",
    "/scenarios/",
    "/requests/",
    "/requests/work/",
    "/account/tokens/",
]


def pages_client(client: Client, shared: Shared, number: int) -> None:
    username = "admin" if number % 2 == 0 else "instructor"
    known = set(PAGES_START) | ({"/admin/"} if username == "admin" else set())
    signed_in = False
    while not client.stop.is_set():
        try:
            if not signed_in:
                client.http.cookies.clear()
                form = client.call("login form", "GET", "/login/")
                csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
                form = {
                    "username": username,
                    "password": DEMO_PASSWORDS[username],
                    "csrfmiddlewaretoken": csrf,
                }
                client.call("login", "POST", "/login/", expect=(302,), data=form)
                signed_in = True
            path = random.choice(sorted(known))
            page = client.call("page", "GET", path)
            if "csrfmiddlewaretoken" in page.text and 'name="password"' in page.text:
                client.stats.record(client.family, "page", 0, "unexpected", f"{path} shows the sign-in form")
                signed_in = False
            for link in PAGE_LINK.findall(page.text):
                if PAGE_ALLOWED.match(link) and len(known) < 400:
                    known.add(link)
            if random.random() < 0.05:
                client.call("health", "GET", "/health/")
        except Failed:
            pass
        except AttributeError:  # no CSRF token in the login form
            client.stats.record(client.family, "login form", 0, "unexpected", "no CSRF token")
        client.pause(0.1, 0.6)


# --- The run ----------------------------------------------------------------------------------


def drain(base: str, shared: Shared, seconds: float, stats: Stats) -> None:
    """Wait (bounded) for every crowd request and scenario run to end."""
    deadline = time.monotonic() + seconds
    stop = threading.Event()
    crowd = Client(base, "drain", stats, stop)
    runner = Client(base, "drain", stats, stop)
    headers = {"X-Heat-API-Key": SAMPLE_TEST_KEY}
    try:
        scenario_headers = bearer(runner, "admin")
    except Failed:
        return
    while time.monotonic() < deadline:
        with shared.lock:
            pending_crowd = [key for key, status in shared.crowd.items() if status != "complete"]
            pending_runs = [
                key for key, status in shared.scenarios.items() if status not in {"complete", "failed"}
            ]
        if not pending_crowd and not pending_runs:
            return
        for request_id in pending_crowd:
            block = max(0, min(5, int(deadline - time.monotonic())))
            try:
                got = crowd.call(
                    "crowd get", "GET", f"/v1/requests/{request_id}?block={block}", headers=headers
                )
                shared.note("crowd", request_id, got.json()["status"])
            except Failed:
                pass
        for scenario_id in pending_runs:
            try:
                url = f"/api/v1/sessions/main/scenarios/{scenario_id}/status"
                got = runner.call("scenario status", "GET", url, headers=scenario_headers)
                shared.note("scenarios", scenario_id, got.json()["status"])
            except Failed:
                pass
        time.sleep(1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=float(os.environ.get("SOAK_DURATION", 180)))
    parser.add_argument("--drain", type=float, default=90, help="seconds allowed for work to finish")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SOAK_PORT", 8766)))
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    parser.add_argument(
        "--recreate-database", action="store_true", help="drop + create the database, flush Redis"
    )
    parser.add_argument("--startup-timeout", type=float, default=180)
    parser.add_argument("--crowd", type=int, default=3, help="crowd clients")
    parser.add_argument("--scenarios", type=int, default=2, help="scenario runner clients")
    parser.add_argument("--v2", type=int, default=2, help="v2 session/upload clients")
    parser.add_argument("--sites", type=int, default=2, help="sites clients")
    parser.add_argument("--pages", type=int, default=2, help="portal page clients")
    parser.add_argument("--keep", action="store_true", help="keep the data folder and its run.log")
    return parser.parse_args()


@dataclass
class Outcome:
    """What a soak that got its portal healthy found."""

    traffic_seconds: float
    drain_seconds: float
    problems: list[str]
    log: str  # the run log
    crash_lines: list[str]


def main() -> int:
    args = parse_args()
    # A `timeout` or Ctrl-C still stops the portal (the finally below): its processes run in a
    # session of their own and would outlive this script.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    setup = "PostgreSQL + Redis" if args.database_url else "embedded default (SQLite, filesystem broker)"
    print(f"== Soak: make run on the {setup}, {args.duration:.0f} s of traffic, port {args.port}", flush=True)
    if args.recreate_database:
        recreate_database(args.database_url, args.redis_url)
    portal = Portal(args)
    stats, shared = Stats(), Shared()
    try:
        outcome = soak(portal, args, stats, shared, setup)
    finally:
        portal.stop()
        if not args.keep:
            portal.cleanup()
    if outcome is None:
        return 1

    report(
        stats, shared, outcome.traffic_seconds, outcome.drain_seconds, outcome.problems, outcome.crash_lines
    )
    failed = soak_failed(stats, shared, outcome)
    if failed:
        print("\nthe run log (last 60 lines):")
        print("\n".join(outcome.log.splitlines()[-60:]))
        if args.keep:
            print(f"\nkept: {portal.log_path}")
    print(f"\nSOAK {'FAILED' if failed else 'PASSED'} ({setup})")
    return 1 if failed else 0


def soak(
    portal: Portal, args: argparse.Namespace, stats: Stats, shared: Shared, setup: str
) -> Outcome | None:
    """Start the portal, run the clients for the duration, drain; None if it never got healthy."""
    started = time.monotonic()
    portal.start()
    try:
        portal.wait_healthy(args.startup_timeout)
    except SystemExit as error:
        print(f"{error}; the run log (last 60 lines):")
        print("\n".join(portal.log_text().splitlines()[-60:]))
        print(f"\nSOAK FAILED ({setup})")
        return None
    print(f"healthy after {time.monotonic() - started:.1f} s (data folder {portal.data_dir})", flush=True)
    time.sleep(2)  # let every process of the run finish starting
    processes = portal_processes(portal.process.pid, portal.data_dir)
    problems = startup_problems(processes)
    sites = create_sites(portal, args.sites)

    stop = threading.Event()
    threads = client_threads(portal.base, args, stats, shared, stop, sites)
    print(f"{len(threads)} clients for {args.duration:.0f} s ...", flush=True)
    traffic_started = time.monotonic()
    for thread in threads:
        thread.start()
    deaths = monitor(portal, processes, stats, stop, args.duration)
    stop.set()
    for thread in threads:
        thread.join(timeout=BLOCK + 30)
    traffic_seconds = time.monotonic() - traffic_started
    drain_started = time.monotonic()
    if portal.process.poll() is None:
        drain(portal.base, shared, args.drain, stats)
    drain_seconds = time.monotonic() - drain_started
    problems += end_problems(portal, processes, deaths)
    log = portal.log_text()
    lines = log.splitlines() + portal.other_logs()
    crash_lines = [line for line in lines if CRASH_PATTERNS.search(line)]
    return Outcome(traffic_seconds, drain_seconds, problems, log, crash_lines)


def startup_problems(processes: list[PortalProcess]) -> list[str]:
    """Print the processes found at start; a problem for each kind (web, beat, worker) missing."""
    problems = []
    for process in processes:
        print(f"  {process.role:<24} pid {process.pid:<7} {process.argv[:110]}")
    roles = {process.role for process in processes}
    for needed in ("web", "beat"):
        if needed not in roles:
            problems.append(f"no {needed} process found at start")
    if not any(role.startswith("worker[") for role in roles):
        problems.append("no worker process found at start")
    return problems


def create_sites(portal: Portal, count: int) -> list[tuple[str, str, str]]:
    """``count`` sites made the README way: (site id, device token, public API key) each."""
    sites = []
    for _number in range(count):
        name = f"soak-{uuid.uuid4().hex[:8]}"
        created = portal.manage("create_site", "--group", "Soak", "--name", name)
        site_id = re.search(r"site id:\s+(\S+)", created).group(1)
        token = re.search(r"device token:\s+(\S+)", created).group(1)
        key = portal.manage("create_site_api_key", "--group", "Soak", "--name", name).strip()
        sites.append((site_id, token, key))
    return sites


def client_threads(
    base: str,
    args: argparse.Namespace,
    stats: Stats,
    shared: Shared,
    stop: threading.Event,
    sites: list[tuple[str, str, str]],
) -> list[threading.Thread]:
    """One thread per client (not started): as many of each family as asked, one per site."""
    threads = []
    plan = [
        ("crowd", crowd_client, args.crowd, ()),
        ("scenarios", scenarios_client, args.scenarios, ()),
        ("v2", v2_client, args.v2, ()),
        ("pages", pages_client, args.pages, ()),
    ]
    for family, target, count, extra in plan:
        for number in range(count):
            client = Client(base, family, stats, stop)
            threads.append(
                threading.Thread(target=guarded, args=(target, client, shared, number, *extra), daemon=True)
            )
    for number, site in enumerate(sites):
        client = Client(base, "sites", stats, stop)
        threads.append(
            threading.Thread(target=guarded, args=(sites_client, client, shared, number, *site), daemon=True)
        )
    return threads


def end_problems(
    portal: Portal, processes: list[PortalProcess], deaths: dict[PortalProcess, str]
) -> list[str]:
    """`make run` gone, or a process found at start that died or is dead now."""
    deaths.update(
        {process: "dead at the end" for process in processes if not alive(process) and process not in deaths}
    )
    problems = []
    if portal.process.poll() is not None:
        problems.append(f"make run exited with {portal.process.returncode}")
    for process, when in deaths.items():
        problems.append(f"{process.role} (pid {process.pid}) {when}")
    return problems


def soak_failed(stats: Stats, shared: Shared, outcome: Outcome) -> bool:
    """Any problem, crash line, 5xx, connection error or unexpected answer; any crowd request
    or scenario run not complete, or none made at all."""
    failed = (
        bool(outcome.problems)
        or bool(outcome.crash_lines)
        or any(
            family.server_errors or family.connection_errors or family.unexpected
            for family in stats.families.values()
        )
    )
    incomplete_crowd = [key for key, status in shared.crowd.items() if status != "complete"]
    incomplete_runs = [key for key, status in shared.scenarios.items() if status != "complete"]
    return (
        failed or bool(incomplete_crowd) or bool(incomplete_runs) or not shared.crowd or not shared.scenarios
    )


def guarded(target, client: Client, shared: Shared, number: int, *extra) -> None:
    """A client whose set-up fails (e.g. its sign-in) stops; the failure is already recorded."""
    try:
        target(client, shared, number, *extra)
    except Failed:
        pass
    except Exception as error:  # a bug of the soak itself or an answer of the wrong shape
        client.stats.record(client.family, "client", 0, "unexpected", f"{type(error).__name__}: {error}")
    finally:
        client.http.close()


def monitor(portal: Portal, processes, stats: Stats, stop: threading.Event, duration: float) -> dict:
    """Watch the processes every second and the health page every 5 s until the time is up or
    `make run` exits; returns the processes that died, with when."""
    deaths: dict[PortalProcess, str] = {}
    started = time.monotonic()
    health = Client(portal.base, "health", stats, stop, timeout=15)
    next_health = started
    next_progress = 30
    while time.monotonic() - started < duration:
        elapsed = time.monotonic() - started
        for process in processes:
            if process not in deaths and not alive(process):
                deaths[process] = f"exited at t={elapsed:.0f} s"
                print(f"  t={elapsed:.0f} s: {process.role} (pid {process.pid}) exited", flush=True)
        if portal.process.poll() is not None:
            print(
                f"  t={elapsed:.0f} s: make run exited with {portal.process.returncode}; traffic stops",
                flush=True,
            )
            break
        if time.monotonic() >= next_health:
            next_health += 5
            with contextlib.suppress(Failed):
                health.call("health", "GET", "/health/")
        if elapsed >= next_progress:
            next_progress += 30
            with stats.lock:
                total = sum(family.requests for family in stats.families.values())
            print(f"  t={elapsed:.0f} s: {total} requests", flush=True)
        time.sleep(1 - (time.monotonic() - started) % 1)
    health.http.close()
    return deaths


def report(stats, shared, traffic_seconds, drain_seconds, problems, crash_lines) -> None:
    print(f"\ntraffic {traffic_seconds:.0f} s, drain {drain_seconds:.0f} s")
    header = f"{'family':<12}{'requests':>9}{'5xx':>6}{'conn':>6}{'other':>7}{'p50 ms':>9}{'p99 ms':>9}"
    print(header)
    for name in sorted(stats.families):
        family = stats.families[name]
        print(
            f"{name:<12}{family.requests:>9}{family.server_errors:>6}{family.connection_errors:>6}"
            f"{family.unexpected:>7}{percentile(family.latencies, 50) * 1000:>9.0f}"
            f"{percentile(family.latencies, 99) * 1000:>9.0f}"
        )
    total = FamilyStats()
    for family in stats.families.values():
        total.requests += family.requests
        total.server_errors += family.server_errors
        total.connection_errors += family.connection_errors
        total.unexpected += family.unexpected
    print(
        f"{'total':<12}{total.requests:>9}{total.server_errors:>6}{total.connection_errors:>6}{total.unexpected:>7}"
    )
    print("\nslowest operations (p99):")
    slow = sorted(stats.ops.items(), key=lambda item: -percentile(item[1].latencies, 99))[:6]
    for name, op in slow:
        print(
            f"  {name:<28} n={op.requests:<6} p50 {percentile(op.latencies, 50) * 1000:.0f} ms"
            f"  p99 {percentile(op.latencies, 99) * 1000:.0f} ms"
        )
    crowd_done = sum(status == "complete" for status in shared.crowd.values())
    runs_done = sum(status == "complete" for status in shared.scenarios.values())
    runs_failed = sum(status == "failed" for status in shared.scenarios.values())
    print(f"\ncrowd requests: {len(shared.crowd)} created, {crowd_done} complete")
    print(f"scenario runs:  {len(shared.scenarios)} created, {runs_done} complete, {runs_failed} failed")
    print(f"node outputs:   {shared.uploaded_bytes / 1024**2:.1f} MiB uploaded")
    if stats.failures:
        print("\nfailed calls (count, the first one):")
        for name, (count, first) in sorted(stats.failures.items(), key=lambda item: item[1][1]):
            print(f"  {count:>5} x {name}; first at {first[:300]}")
    if crash_lines:
        print(f"\ncrash lines in the run log ({len(crash_lines)}):")
        for line in crash_lines[:20]:
            print(f"  {line[:240]}")
    if problems:
        print("\nprocesses:")
        for line in problems:
            print(f"  {line}")
    else:
        print("\nprocesses: every one found at start is alive and unchanged")


if __name__ == "__main__":
    sys.exit(main())
