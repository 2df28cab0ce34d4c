"""CPU per request of every API family's hot endpoint against the bare-view floor (issue 11).

    .venv/bin/python bench/api_bench.py                          # embedded and PostgreSQL + Redis
    .venv/bin/python bench/api_bench.py --backend embedded --quick   # a smoke check

Target (issue 11): "Every family's hot endpoint (v2 health and session GET, auth login, sites
list and detail, gateway telemetry POST, crowd GET and POST, runner status) costs at most 2x
the bare-view floor in CPU per request."

For each backend (``embedded``: SQLite, file cache, filesystem broker; ``pg``: PostgreSQL
``BENCH_PG_URL`` + Redis ``BENCH_REDIS_URL``) it starts, side by side, one process each: HEAT
(``harness.heat_server_command``) and the floor (bench/floor: a bare Django project, same server
command and same lanes; ``/sync`` is the API lane's floor, a sync view run on Django's WSGI
handler in the thread pool; ``/async`` the async lane's, an async view on Django's ASGI
handler). No Celery worker runs: what an endpoint queues (crowd staging answers) stays queued.
The floor also serves a reference, ``/query``: ``/sync`` plus one ORM ``get()`` by a unique
column on HEAT's own database, served the same way; it has no verdict and shows how much of
the 2x budget one row read through the ORM takes on this machine.

Then, in interleaved rounds (floor /sync, the sync endpoints, floor /async, the crowd
endpoints, login, the hash probe; then again), each endpoint gets one wrk run (-t2 -c10) with
its credential header, POST bodies through bench/lua/. Around each run the server's CPU time
(utime + stime of its process tree, /proc) is read before and after; "after" waits until the
server is quiet again (work still in flight when wrk stops is counted). CPU per request =
that CPU / the requests wrk completed, except for login: its requests take hundreds of
milliseconds, so the requests still in flight when wrk stops would weigh; there the divisor is
the number of access tokens the server issued (rows counted before and after).

Login is dominated by the production password hasher (PBKDF2, deliberately slow). The bench
measures login as is AND the hash alone: ``check_password`` of the admin's stored hash, in a
separate process with HEAT's settings, CPU time of the checking thread, median of several per
round. The login verdict is on login - hash, against the API lane's floor (said so in the row).

Each endpoint's ratio is to the floor of its lane measured in the same run; the verdict uses
the less favourable to HEAT of the ratio of the medians and the median of the per-round
ratios. A run with any non-2xx answer or socket error fails its verdict. Exits 0 whatever the
verdicts (a benchmark); non-zero only when the set-up fails.

Rate limits that would turn the bench's own traffic into 429s are raised in HEAT's environment
(``SITES_API_RATE_LIMIT``, ``CROWD_RATE_LIMIT_PER_MINUTE``): each request still runs its
limiter, only the ceiling is higher.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h

CONNECTIONS = 10
TARGET = 2.0  # x the floor's CPU per request
POST_SCRIPT = h.BENCH / "lua" / "post_json.lua"
TELEMETRY_SCRIPT = h.BENCH / "lua" / "telemetry.lua"
DEMO_GROUP = "Demo utility"
DOC_SITE_ID = "123e4567-e89b-12d3-a456-426614174000"  # seed_demo's "Site 1"
SAMPLE_REQUEST_ID = "44647b6f-b033-4788-9ee2-9d7aa5cb0158"  # seed_demo's completed crowd request
LOGIN_BODY = {"username": "admin", "password": "heat-admin"}  # seed_demo's admin
TELEMETRY_ASSETS = {  # seed_demo's Site 1 has these seven assets
    "grid": {"activePowerkW": 120},
    "solar": {"activePowerkW": 150},
    "bess": {"activePowerkW": 30, "soc": 70, "availableStorageCapacitykWh": 350},
    "ev": {"activePowerkW": 22},
    "heatpump": {"activePowerkW": 10},
    "genset": {"activePowerkW": 0},
    "load": {"activePowerkW": 250},
}
CROWD_BODY = {  # document 004's sample multiple-choice request
    "instruction": "Does the image contain violent content?",
    "attachments_type": "image",
    "attachments": ["http://i.imgur.com/qRWH5.jpg"],
    "choices_type": "text",
    "choices": ["no violence", "mild violence", "intense violence"],
}
SCENARIO_BODY = {
    "tag": "polled",
    "dataset_key": "Master data",
    "algo_name": "Slow",
    "algo_params": {"duration": 1},
}
RAISED_LIMITS = {"SITES_API_RATE_LIMIT": "1000000000", "CROWD_RATE_LIMIT_PER_MINUTE": "1000000000"}
FLOOR_SYNC, FLOOR_ASYNC = "floor /sync", "floor /async"
FLOOR_QUERY = "floor /query"  # a reference, not a floor: /sync plus one ORM read
HASH = "hash alone"

HASH_PROBE = """
import json, statistics, time
import django
django.setup()
from django.contrib.auth.hashers import check_password
from heatportal.accounts.models import User
encoded = User.objects.get(username="admin").password
samples = []
for _ in range({checks}):
    started = time.thread_time()
    assert check_password({password!r}, encoded)
    samples.append((time.thread_time() - started) * 1000)
print(json.dumps({{"hasher": encoded.split("$")[0], "iterations": encoded.split("$")[1], "ms": samples}}))
"""


@dataclass
class Endpoint:
    """One hot endpoint (or a floor view) and how the client calls it."""

    name: str
    lane: str  # "sync" (API lane, WSGI handler in the thread pool) or "async" (crowd, ASGI handler)
    path: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: dict | None = None  # POSTed as JSON (bench/lua/post_json.lua)
    script: Path | None = None  # or a script of its own
    script_args: list[str] = field(default_factory=list)
    floor: bool = False
    note: str = ""

    @property
    def floor_name(self) -> str:
        return FLOOR_SYNC if self.lane == "sync" else FLOOR_ASYNC

    def wrk_script(self) -> tuple[Path | None, list[str]]:
        if self.script is not None:
            return self.script, self.script_args
        if self.body is not None:
            return POST_SCRIPT, [json.dumps(self.body)]
        return None, []


@dataclass
class Run:
    """One wrk run of one endpoint, as achieved."""

    wrk: h.WrkResult
    cpu_ms: float  # server CPU, ms, from before the run until it was quiet again
    requests: int  # the divisor: requests wrk completed (login: tokens issued)
    extra: str = ""

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_ms / self.requests if self.requests else float("nan")


# --- Set-up ---------------------------------------------------------------------------------


def reset_pg_and_redis() -> None:
    """Drop and create our database (``heat_*bench*`` only), flush our Redis db."""
    name = h.PG_URL.rsplit("/", 1)[1]
    if not (name.startswith("heat_") and "bench" in name):
        raise SystemExit(f"refusing to reset {name!r}: bench databases are named heat_*bench*")
    admin = h.PG_URL.rsplit("/", 1)[0] + "/postgres"
    for statement in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run([h._tool("psql"), admin, "-q", "-c", statement], check=True, capture_output=True)
    subprocess.run([h._tool("redis-cli"), "-u", h.REDIS_URL, "FLUSHDB"], check=True, capture_output=True)


@dataclass
class Installation:
    backend: str
    data_dir: Path
    env: dict[str, str]
    token: str  # HEAT bearer (v2, runner): an offline token of admin
    site_key: str  # sites public API key of the demo group
    device_token: str  # Site 1's gateway
    crowd_key: str  # a test (staging) crowd key of admin's account "demo"
    seed_log: str = ""


def prepare(backend: str) -> Installation:
    """A fresh HEAT: data folder (and database), migrate, seed_demo, one credential per family
    from the management commands (as .ci/schemathesis gets them)."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"heat-apibench-{backend}-"))
    env = h.heat_environment(backend, data_dir)
    env.update(RAISED_LIMITS)
    if backend == "pg":
        reset_pg_and_redis()
    h.heat_manage(env, "migrate", "--noinput", "-v0")
    seed_log = h.heat_manage(env, "seed_demo")
    match = re.search(r"created site Site 1 \([^)]*\); gateway device token: (\S+)", seed_log)
    if match is None:
        raise SystemExit(f"seed_demo printed no device token for Site 1:\n{seed_log}")
    return Installation(
        backend=backend,
        data_dir=data_dir,
        env=env,
        token=h.heat_manage(env, "issue_token", "admin", "--offline", "--name", "apibench").strip(),
        site_key=h.heat_manage(
            env, "create_site_api_key", "--group", DEMO_GROUP, "--name", "apibench"
        ).strip(),
        device_token=match[1],
        crowd_key=h.heat_manage(env, "create_crowd_api_key", "admin", "--test", "--name", "apibench").strip(),
        seed_log=seed_log,
    )


def call(base: str, method: str, path: str, expect: int, **kwargs) -> httpx.Response:
    response = httpx.request(method, base + path, timeout=30, **kwargs)
    if response.status_code != expect:
        raise SystemExit(
            f"{method} {path} answered {response.status_code}, not {expect}: {response.text[:300]}"
        )
    return response


def created_for_bench(heat_base: str, bearer: dict[str, str]) -> tuple[str, str]:
    """A v2 session and a runner scenario created through the API: their ids."""
    projects = call(heat_base, "GET", "/api/v2/projects", 200, headers=bearer).json()
    session = call(
        heat_base,
        "POST",
        "/api/v2/sessions",
        201,
        headers=bearer,
        json={"name": "apibench", "projectId": projects[0]["id"]},
    ).json()
    scenario = call(
        heat_base, "POST", "/api/v1/sessions/main/scenarios", 201, headers=bearer, json=SCENARIO_BODY
    ).json()
    return session["id"], scenario["id"]


def endpoints(heat_base: str, inst: Installation) -> list[Endpoint]:
    """The hot endpoints, with what they need created through the API first."""
    bearer = {"Authorization": f"Bearer {inst.token}"}
    session_id, scenario_id = created_for_bench(heat_base, bearer)
    site_key = {"Authorization": f"Bearer {inst.site_key}"}
    device = {"Authorization": f"Bearer {inst.device_token}"}
    crowd = {"X-Heat-API-Key": inst.crowd_key}
    return [
        Endpoint("v2 health", "sync", "/api/v2/health", note="SELECT 1, no credential"),
        Endpoint("v2 session GET", "sync", f"/api/v2/sessions/{session_id}", headers=bearer),
        Endpoint("sites list", "sync", "/api/v1/public/sites", headers=site_key, note="3 demo sites"),
        Endpoint("sites detail", "sync", f"/api/v1/public/sites/{DOC_SITE_ID}", headers=site_key),
        Endpoint(
            "gateway telemetry POST",
            "sync",
            "/api/v1/gateway/telemetry",
            "POST",
            headers=device,
            script=TELEMETRY_SCRIPT,
            script_args=[json.dumps(TELEMETRY_ASSETS)],
            note="7 assets, reportedAt = client clock",
        ),
        Endpoint(
            "runner status",
            "sync",
            f"/api/v1/sessions/main/scenarios/{scenario_id}/status",
            headers=bearer,
            note="a created scenario",
        ),
        Endpoint(
            "crowd GET",
            "async",
            f"/v1/requests/{SAMPLE_REQUEST_ID}",
            headers=crowd,
            note="the sample request (complete), no block",
        ),
        Endpoint(
            "crowd POST",
            "async",
            "/v1/requests/multiple-choice",
            "POST",
            headers=crowd,
            body=CROWD_BODY,
            note="test key: each queues a staging answer (no worker runs)",
        ),
        Endpoint("auth login", "sync", "/auth/login", "POST", body=LOGIN_BODY, note="as is (hash included)"),
    ]


def check_answers(heat_base: str, floor_base: str, all_endpoints: list[Endpoint]) -> None:
    """One request of each before any load: the expected answer, or the set-up fails."""
    for endpoint in all_endpoints:
        base = floor_base if endpoint.floor else heat_base
        body = endpoint.body
        if endpoint.script is TELEMETRY_SCRIPT:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            body = {"reportedAt": stamp, "assets": TELEMETRY_ASSETS}
        response = call(base, endpoint.method, endpoint.path, 200, headers=endpoint.headers, json=body)
        if endpoint.script is TELEMETRY_SCRIPT and response.json().get("applied") is not True:
            raise SystemExit(f"telemetry not applied: {response.text[:300]}")


# --- Measuring ------------------------------------------------------------------------------


def settle(server: h.Server, *, interval: float = 0.1, quiet_windows: int = 3, timeout: float = 60) -> float:
    """Wait until the server used at most one clock tick of CPU in each of ``quiet_windows``
    windows of ``interval`` in a row (work still in flight when the client stopped has
    finished); return its CPU seconds then."""
    last = server.cpu_seconds()
    quiet = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(interval)
        now = server.cpu_seconds()
        quiet = quiet + 1 if now - last <= 1.5 / h.CLOCK_TICKS else 0
        last = now
        if quiet >= quiet_windows:
            break
    return last


def access_tokens(inst: Installation) -> int:
    """Rows of accounts_accesstoken: one per login (and the offline token)."""
    query = "SELECT count(*) FROM accounts_accesstoken"
    if inst.backend == "embedded":
        with sqlite3.connect(f"file:{inst.data_dir / 'db.sqlite3'}?mode=ro", uri=True, timeout=30) as db:
            return db.execute(query).fetchone()[0]
    answer = subprocess.run(
        [h._tool("psql"), h.PG_URL, "-tAc", query], check=True, capture_output=True, text=True
    )
    return int(answer.stdout.strip())


def measure(server: h.Server, endpoint: Endpoint, seconds: float, inst: Installation) -> Run:
    script, script_args = endpoint.wrk_script()
    login = endpoint.name == "auth login"
    tokens_before = access_tokens(inst) if login else 0
    before = settle(server)
    result = h.wrk(
        server.base + endpoint.path,
        connections=CONNECTIONS,
        seconds=seconds,
        headers=endpoint.headers,
        script=script,
        script_args=script_args,
    )
    requests, extra = result.requests, ""
    if login:
        # Logins still in flight when wrk stopped go on (the view runs in a thread): wait until
        # every login wrk sent has issued its token (or none more came for 5 s), then count.
        sent = int(re.search(r"^sent (\d+)$", result.output, flags=re.MULTILINE)[1])
        deadline = time.monotonic() + 5
        issued = access_tokens(inst) - tokens_before
        while issued < sent and time.monotonic() < deadline:
            time.sleep(0.1)
            now = access_tokens(inst) - tokens_before
            if now != issued:
                deadline = time.monotonic() + 5
            issued = now
        requests = issued
        extra = f"{issued} logins done ({sent} sent, {result.requests} answered while wrk ran)"
    elif script is TELEMETRY_SCRIPT:
        extra = result.output.strip().splitlines()[-1]  # "applied N stale N other N"
    used_ms = (settle(server) - before) * 1000
    result.cpu_ms_per_request = used_ms / requests if requests else float("nan")
    return Run(result, used_ms, requests, extra)


def hash_probe(inst: Installation, checks: int) -> dict:
    """check_password of the admin's stored hash, ``checks`` times, in a process of its own
    with HEAT's settings; thread CPU time of each check, ms."""
    code = HASH_PROBE.format(checks=checks, password=LOGIN_BODY["password"])
    answer = subprocess.run(
        [str(h.VENV_BIN / "python"), "-c", code],
        cwd=h.ROOT,
        env={**inst.env, "PYTHONPATH": str(h.ROOT)},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


# --- One backend ----------------------------------------------------------------------------


def run_backend(backend: str, args) -> dict:
    print(f"\n=== backend {backend}: setting up", flush=True)
    inst = prepare(backend)
    logs = inst.data_dir / "logs"
    logs.mkdir()
    heat, floor = bench_servers(inst, logs)
    servers = [heat, floor]
    runs: dict[str, list] = {}
    finished = False
    try:
        for server in servers:
            server.start()
        order = round_order(endpoints(heat.base, inst))  # a round; the hash probe after login
        check_answers(heat.base, floor.base, order)
        print(f"    HEAT {heat.base}, floor {floor.base}; logs in {logs}")
        print(f"    {h.machine_line()}", flush=True)
        for endpoint in order:  # warm-up: lazy imports, first connections, caches
            measure(floor if endpoint.floor else heat, endpoint, 1, inst)
        idle = idle_cpu_ms(servers)
        for round_ in range(1, args.rounds + 1):
            print(f"    round {round_}/{args.rounds}", flush=True)
            for endpoint in order:
                server = floor if endpoint.floor else heat
                runs.setdefault(endpoint.name, []).append(measure(server, endpoint, args.seconds, inst))
            runs.setdefault(HASH, []).append(hash_probe(inst, args.hash_checks))
        finished = True
    finally:
        stop_servers(servers)
        if finished and not args.keep:
            h.remove_tree(inst.data_dir)
        else:
            print(f"    kept {inst.data_dir} (logs in {logs})")
    return report(backend, order, runs, idle, args)


def bench_servers(inst: Installation, logs: Path) -> tuple[h.Server, h.Server]:
    """HEAT and the floor, on two free ports (not started)."""
    ports: list[int] = []
    for _ in range(2):
        ports.append(h.free_port(taken=ports))
    floor_env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    floor_env.update({"DJANGO_SETTINGS_MODULE": "bench.floor.settings", "PYTHONUNBUFFERED": "1"})
    floor_env["DATABASE_URL"] = inst.env["DATABASE_URL"]  # for /query only
    heat = h.Server(
        "heat",
        h.heat_server_command(ports[0]),
        env=inst.env,
        port=ports[0],
        health="/api/v2/health",
        log_dir=logs,
    )
    floor = h.Server(
        "floor",
        h.floor_server_command(ports[1]),
        env=floor_env,
        port=ports[1],
        health="/health",
        log_dir=logs,
    )
    return heat, floor


def round_order(heat_endpoints: list[Endpoint]) -> list[Endpoint]:
    """One round: floor /sync, /query, the sync endpoints, floor /async, crowd, login."""
    floors = [
        Endpoint(FLOOR_SYNC, "sync", "/sync", floor=True),
        Endpoint(FLOOR_ASYNC, "async", "/async", floor=True),
        Endpoint(
            FLOOR_QUERY,
            "sync",
            "/query",
            floor=True,
            note="reference: /sync + one ORM get() by a unique column",
        ),
    ]
    sync = [e for e in heat_endpoints if e.lane == "sync" and e.name != "auth login"]
    crowd = [e for e in heat_endpoints if e.lane == "async"]
    login = [e for e in heat_endpoints if e.name == "auth login"]
    return [floors[0], floors[2], *sync, floors[1], *crowd, *login]


def idle_cpu_ms(servers: list[h.Server]) -> dict[str, float]:
    """Each server's CPU over one quiet second, ms."""
    idle = {}
    for server in servers:
        start = settle(server)
        time.sleep(1)
        idle[server.name] = (server.cpu_seconds() - start) * 1000
    return idle


def stop_servers(servers: list[h.Server]) -> None:
    """Say which server had exited on its own, then stop them all (last started first)."""
    for server in servers:
        if server.process is not None and server.process.poll() is not None:
            print(f"    {server.name} had exited (code {server.process.returncode}); see {server.log_path}")
    for server in reversed(servers):
        server.stop()


# --- Report ---------------------------------------------------------------------------------


def med(runs: list[Run], key: str) -> float:
    if key == "cpu":
        return h.median(run.cpu_ms_per_request for run in runs)
    return h.median(getattr(run.wrk, key) for run in runs)


def hash_ms(probe: dict) -> float:
    return h.median(probe["ms"])


def judged(per_round: list[float], of_medians: float) -> float:
    """The less favourable to HEAT (higher) of the median of the per-round ratios and the
    ratio of the medians: rounds are interleaved, so a round's pair shares the machine's drift,
    yet one noisy round can swing either figure, and a verdict must not pass on that."""
    return max(h.median(per_round), of_medians)


TABLE_HEADER = [
    "endpoint",
    "lane",
    "req/s",
    "p50 ms",
    "p99 ms",
    "CPU ms/req",
    "x floor",
    "requests",
    "errors",
    "bytes/resp",
    "notes",
]


@dataclass
class Login:
    """Login's figures: login minus that round's hash median, per round, and its ratio."""

    hashes: list[float]  # each round's hash median, ms
    hash_median: float  # of every check of every round, ms
    minus: list[float]  # per round: login CPU/req - hash, ms
    minus_ratio: float  # judged, against floor /sync


def report(backend: str, order: list[Endpoint], runs: dict[str, list], idle: dict[str, float], args) -> dict:
    print(
        f"\n--- backend {backend}: {args.rounds} interleaved round(s), medians, {args.seconds:g} s wrk runs "
        f"at -c{CONNECTIONS}, server CPU = utime + stime of its process tree (/proc)"
    )
    floor_cpu = {name: med(runs[name], "cpu") for name in (FLOOR_SYNC, FLOOR_ASYNC)}
    judged_ratio = {
        endpoint.name: endpoint_ratio(endpoint, runs, floor_cpu) for endpoint in order if not endpoint.floor
    }
    login = login_figures(runs, floor_cpu)
    rows = [endpoint_row(endpoint, runs, floor_cpu, judged_ratio) for endpoint in order]
    rows.extend(login_rows(runs, login))
    h.print_table(f"Hot endpoints vs the bare-view floor, -c{CONNECTIONS} [{backend}]", TABLE_HEADER, rows)
    print_notes(runs, floor_cpu, idle, login)
    print()
    verdicts = [
        endpoint_verdict(backend, endpoint, runs, floor_cpu, judged_ratio, login)
        for endpoint in order
        if not endpoint.floor
    ]
    return {"backend": backend, "passed": sum(verdicts), "targets": len(verdicts)}


def endpoint_ratio(endpoint: Endpoint, runs: dict[str, list], floor_cpu: dict[str, float]) -> float:
    """The judged ratio of a HEAT endpoint's CPU per request to its lane's floor."""
    endpoint_runs, floor_runs = runs[endpoint.name], runs[endpoint.floor_name]
    per_round = [
        h.ratio(run.cpu_ms_per_request, floor_run.cpu_ms_per_request)
        for run, floor_run in zip(endpoint_runs, floor_runs, strict=True)
    ]
    return judged(per_round, h.ratio(med(endpoint_runs, "cpu"), floor_cpu[endpoint.floor_name]))


def login_figures(runs: dict[str, list], floor_cpu: dict[str, float]) -> Login:
    hashes = [hash_ms(probe) for probe in runs[HASH]]
    hash_median = h.median(ms for probe in runs[HASH] for ms in probe["ms"])
    login_runs = runs["auth login"]
    minus = [run.cpu_ms_per_request - probe_ms for run, probe_ms in zip(login_runs, hashes, strict=True)]
    minus_ratio = judged(
        [
            h.ratio(value, floor.cpu_ms_per_request)
            for value, floor in zip(minus, runs[FLOOR_SYNC], strict=True)
        ],
        h.ratio(med(login_runs, "cpu") - hash_median, floor_cpu[FLOOR_SYNC]),
    )
    return Login(hashes=hashes, hash_median=hash_median, minus=minus, minus_ratio=minus_ratio)


def endpoint_row(
    endpoint: Endpoint, runs: dict[str, list], floor_cpu: dict[str, float], judged_ratio: dict[str, float]
) -> list[str]:
    endpoint_runs = runs[endpoint.name]
    cpu = med(endpoint_runs, "cpu")
    ratio = ""
    if endpoint.name == FLOOR_QUERY:
        ratio = f"{h.ratio(cpu, floor_cpu[FLOOR_SYNC]):.2f}x /sync"
    if not endpoint.floor:
        ratio = f"{judged_ratio[endpoint.name]:.2f}x {endpoint.floor_name.split()[1]}"
    extra = ""
    if endpoint.script is TELEMETRY_SCRIPT:  # "applied N stale N other N" per run: summed
        counts = [sum(int(run.extra.split()[index]) for run in endpoint_runs) for index in (1, 3, 5)]
        extra = f"applied {counts[0]:,}, stale (200 applied: false) {counts[1]:,}, other {counts[2]:,}"
    return [
        endpoint.name,
        endpoint.lane,
        f"{med(endpoint_runs, 'rps'):,.0f}",
        f"{med(endpoint_runs, 'p50_ms'):.1f}",
        f"{med(endpoint_runs, 'p99_ms'):.1f}",
        f"{cpu:.3f}",
        ratio,
        f"{sum(run.requests for run in endpoint_runs):,}",
        str(sum(run.wrk.errors for run in endpoint_runs)),
        f"{med(endpoint_runs, 'bytes_per_response'):,.0f}",
        "; ".join(part for part in (endpoint.note, extra) if part),
    ]


def login_rows(runs: dict[str, list], login: Login) -> list[list[str]]:
    """The rows of the hash alone and of login minus the hash."""
    probe = runs[HASH][0]
    hash_row = ["hash alone", "-", "", "", "", f"{login.hash_median:.3f}", ""]
    hash_row += [str(sum(len(p["ms"]) for p in runs[HASH])), "", ""]
    hash_row.append(
        f"check_password, {probe['hasher']} {probe['iterations']} iterations, own process, thread CPU"
    )
    minus_row = ["auth login - hash", "sync", "", "", "", f"{h.median(login.minus):.3f}"]
    minus_row += [f"{login.minus_ratio:.2f}x /sync", "", "", ""]
    minus_row.append("per round: login CPU/req - that round's hash median; median of rounds")
    return [hash_row, minus_row]


def print_notes(
    runs: dict[str, list], floor_cpu: dict[str, float], idle: dict[str, float], login: Login
) -> None:
    print(
        f"  floors: /sync {floor_cpu[FLOOR_SYNC]:.3f} ms/req (API lane: WSGI handler in the thread pool), "
        f"/async {floor_cpu[FLOOR_ASYNC]:.3f} ms/req (async lane: ASGI handler)"
    )
    query_cpu = med(runs[FLOOR_QUERY], "cpu")
    print(
        f"  reference: /query (/sync + one ORM get()) {query_cpu:.3f} ms/req = "
        f"{h.ratio(query_cpu, floor_cpu[FLOOR_SYNC]):.2f}x /sync: what an endpoint that reads one row "
        "through the ORM costs before its own work (no verdict)"
    )
    print(
        f"  idle CPU over 1 s before the rounds: HEAT {idle['heat']:.0f} ms, floor {idle['floor']:.0f} ms "
        "(included in the figures: a run's CPU is all its server used)"
    )
    all_hashes = [ms for probe in runs[HASH] for ms in probe["ms"]]
    rounds = zip(runs["auth login"], login.hashes, login.minus, strict=True)
    for index, (run, probe_ms, minus) in enumerate(rounds, 1):
        print(
            f"  login round {index}: {run.cpu_ms_per_request:.2f} ms/req ({run.extra}), "
            f"hash {probe_ms:.2f} ms, login - hash {minus:.2f} ms"
        )
    print(
        f"  hash alone: {len(all_hashes)} checks, {min(all_hashes):.1f}-{max(all_hashes):.1f} ms; "
        "login - hash is a small difference of two large figures: 1 % of the hash moves it by "
        f"{login.hash_median / 100:.1f} ms"
    )


def endpoint_verdict(
    backend: str,
    endpoint: Endpoint,
    runs: dict[str, list],
    floor_cpu: dict[str, float],
    judged_ratio: dict[str, float],
    login: Login,
) -> bool:
    endpoint_runs = runs[endpoint.name]
    errors = sum(run.wrk.errors for run in endpoint_runs)
    cpu = med(endpoint_runs, "cpu")
    floor_name = endpoint.floor_name
    if endpoint.name == "auth login":
        value = login.minus_ratio
        achieved = (
            f"login - hash {h.median(login.minus):.3f} ms = {value:.2f}x floor /sync "
            f"{floor_cpu[FLOOR_SYNC]:.3f} ms (login as is {cpu:.1f} ms = "
            f"{judged_ratio[endpoint.name]:.0f}x; hash alone {login.hash_median:.1f} ms)"
        )
        target = f"[{backend}] auth login: CPU per request minus the password hash <= {TARGET:g}x floor /sync"
    else:
        value = judged_ratio[endpoint.name]
        achieved = f"{cpu:.3f} ms = {value:.2f}x floor {floor_name.split()[1]} {floor_cpu[floor_name]:.3f} ms"
        target = f"[{backend}] {endpoint.name}: CPU per request <= {TARGET:g}x floor {floor_name.split()[1]}"
    return h.verdict(
        value <= TARGET and not errors, target, achieved + (f", {errors} errors" if errors else "")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("embedded", "pg", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--seconds", type=float, default=3, help="length of each wrk run (default 3)")
    parser.add_argument(
        "--hash-checks", type=int, default=5, help="check_password calls per round (default 5)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 round, 1 s runs, 3 hash checks: a smoke check"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folder and logs")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.hash_checks = 1, 1, 3
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: run bash bench/peer/setup.sh (it installs wrk)")
    started = time.monotonic()
    print("HEAT's hot endpoints vs a bare Django view (floor), CPU per request")
    print(
        f"  HEAT and floor: {' '.join(h.heat_server_command(0)).replace(' 0 ', ' PORT ')}"
        "  (project bench.floor for the floor)"
    )
    print(
        f"  client: wrk -t2 -c{CONNECTIONS} --latency with the endpoint's credential header; "
        f"ports {h.PORTS.start}-{h.PORTS.stop - 1} (BENCH_PORTS)"
    )
    return h.run_backends(lambda backend: run_backend(backend, args), args.backend, started)


if __name__ == "__main__":
    sys.exit(main())
