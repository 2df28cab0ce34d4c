"""Telemetry history on PostgreSQL (issue 14): batch ingest rate and history query latency.

    .venv/bin/python bench/history_bench.py            # 10 million history rows, 3 rounds
    .venv/bin/python bench/history_bench.py --quick    # 100,000 rows, a smoke check (~1-2 min)

One web process of HEAT (``harness.heat_server_command``: granian, one worker) on a fresh
PostgreSQL database (``heat_bench_history``, dropped and created; Redis db 13, flushed), after
``migrate`` and ``seed_demo`` (the demo sites, with their two weeks of 1-minute history). Then,
in interleaved rounds (medians reported):

a. **Batch ingest**: each client (``--clients``, one demo site and its gateway token each) POSTs
   ``--batches`` bodies ``{"reports": [1,000 reports]}`` to ``/api/v1/gateway/telemetry``, every
   report with a time of its own (a backlog: older than the site's current state); reports/s =
   history rows stored (counted in the database) / wall time. Reference: the single-report form
   (``wrk`` with bench/lua/telemetry.lua, one report a request stamped with the client clock).
   Target: batch >= 10,000 reports/s per web process.
b. **History query**: ``--rows`` history rows (default 10,000,000) across ``--sites`` sites (default
   1,000) of one access group, written by one ``INSERT ... SELECT`` over ``generate_series`` (one
   report a minute per site, ending now, in time order: all sites' minute, then the next). One
   keep-alive client asks ``GET /api/v1/public/sites/{siteId}/telemetry?from=&to=&resolution=15m``
   for one day of a random site (the group's API key), alternating with
   ``GET /api/v1/public/sites/{siteId}`` (the reference). Target: p95 <= 50 ms.
c. **Site page history**: the site page chart's request ``/sites/s/{siteId}/history.json?range=24h``
   (the last 24 hours at 15 minutes, signed in as the demo ``admin``), a random site, measured
   like (b). Target: p95 <= 50 ms.

Latency verdicts judge the median of the rounds' p95s (the table pools all rounds). The bench
database is dropped at the end (``--keep`` keeps it). A benchmark, not a test: it prints its
figures and verdicts and exits 0. Not run by CI.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

# Our own database and Redis db, so that this bench never resets another bench's.
os.environ.setdefault("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/heat_bench_history")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h

RAISED_LIMITS = {"SITES_API_RATE_LIMIT": "1000000000"}
TELEMETRY_SCRIPT = h.BENCH / "lua" / "telemetry.lua"
BATCH_SIZE = 1000
BENCH_GROUP = "History bench"
ASSETS = {
    "grid": {"activePowerkW": 120.0},
    "solar": {"activePowerkW": 150.0},
    "bess": {"activePowerkW": 30.0, "soc": 75.0, "availableStorageCapacitykWh": 375.0},
    "ev": {"activePowerkW": 22.0},
    "heatpump": {"activePowerkW": 10.0},
    "genset": {"activePowerkW": 0.0},
    "load": {"activePowerkW": 250.0},
}
INGEST_TARGET = 10_000  # reports/s per web process
QUERY_TARGET_MS = 50.0  # p95
# The site page's chart request (sites_app.urls "site-history", static/sites_app/history_chart.js):
# the last 24 hours at 15 minutes, with the scheduled values over the same time.
PORTAL_HISTORY_PATH = "/sites/s/{site_id}/history.json?range=24h"


def _wire_time(moment: datetime) -> str:
    """A report time as gateways send it: UTC, milliseconds, Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- Set-up ----------------------------------------------------------------------------------------


@dataclass
class Installation:
    data_dir: Path
    env: dict[str, str]
    gateways: list[tuple[str, str]]  # (site id, device token) of the demo sites
    site_key: str = ""  # public API key of the bench group
    bench_sites: list[str] = field(default_factory=list)
    history_start: datetime | None = None  # the loaded history's first minute
    history_end: datetime | None = None


def psql(sql: str, **variables: str) -> str:
    """Run ``sql`` (read from standard input, so that ``:'name'`` takes ``variables``)."""
    command = [h._tool("psql"), h.PG_URL, "-At", "-q", "-v", "ON_ERROR_STOP=1"]
    for name, value in variables.items():
        command += ["-v", f"{name}={value}"]
    completed = subprocess.run(command, input=sql, check=True, capture_output=True, text=True)
    return completed.stdout.strip()


def drop_database() -> None:
    """Drop the bench database (10 million rows take about 2 GB); ours only."""
    name = h.PG_URL.rsplit("/", 1)[1]
    if name.startswith("heat_bench"):
        admin = h.PG_URL.rsplit("/", 1)[0] + "/postgres"
        statement = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        subprocess.run([h._tool("psql"), admin, "-q", "-c", statement], check=True, capture_output=True)


def prepare() -> Installation:
    """A fresh HEAT on PostgreSQL: migrate, seed_demo (its history timed), the gateway tokens
    of the demo sites from seed_demo's output."""
    data_dir = Path(tempfile.mkdtemp(prefix="heat-historybench-"))
    env = h.heat_environment("pg", data_dir)
    env.update(RAISED_LIMITS)
    h._reset_pg_and_redis()
    h.heat_manage(env, "migrate", "--noinput", "-v0")
    for run in ("first", "second"):
        started = time.monotonic()
        seed_log = h.heat_manage(env, "seed_demo")
        print(f"seed_demo ({run} run, PostgreSQL): {time.monotonic() - started:.1f} s")
        if run == "first":
            gateways = re.findall(r"created site .+? \(([0-9a-f-]+)\); gateway device token: (\S+)", seed_log)
    if not gateways:
        raise SystemExit(f"seed_demo printed no device token:\n{seed_log}")
    rows = psql("SELECT count(*) FROM sites_app_telemetryreport;")
    print(f"demo history: {int(rows):,} rows over {len(gateways)} sites")
    return Installation(data_dir=data_dir, env=env, gateways=gateways)


SITES_SCRIPT = """
from django.db import transaction
from sites_app import services
group, _ = services.access_group_get_or_create(name={group!r})
with transaction.atomic():
    for index in range({count}):
        services.site_create(access_group=group, name=f"History site {{index:04d}}")
"""


GROUP_SITES = (
    "SELECT s.id FROM sites_app_site s JOIN sites_app_accessgroup g ON g.id = s.access_group_id"
    " WHERE g.name = :'group'"
)
# One report a minute per site of the group from :start to :end (random values), written in
# time order (all sites' minute, then the next), as gateways reporting every minute would: a
# site's day lies on as many pages as it has reports, not on a few neighbouring ones.
LOAD_HISTORY = """
SET synchronous_commit = off;
INSERT INTO sites_app_telemetryreport (site_id, reported_at, grid_kw, solar_kw, bess_kw, ev_kw,
    heatpump_kw, genset_kw, load_kw, bess_soc_pcnt, bess_available_kwh)
SELECT s.id, t, 250 * random() - 50, 150 * random(), 200 * random() - 100, 50 * random(),
    20 * random(), 0, 400 * random(), 100 * random(), 500 * random()
FROM sites_app_site s JOIN sites_app_accessgroup g ON g.id = s.access_group_id AND g.name = :'group'
CROSS JOIN generate_series(:'start'::timestamptz, :'end'::timestamptz, interval '1 minute') t
ORDER BY t, s.id;
"""


def load_history(inst: Installation, *, sites: int, rows: int) -> None:
    """``sites`` sites of the bench group (through the service), its API key, and ``rows``
    history rows among them (one a minute per site, ending now), in one statement."""
    started = time.monotonic()
    h.heat_manage(inst.env, "shell", "-c", SITES_SCRIPT.format(group=BENCH_GROUP, count=sites))
    inst.site_key = h.heat_manage(
        inst.env, "create_site_api_key", "--group", BENCH_GROUP, "--name", "historybench"
    ).strip()
    inst.bench_sites = psql(GROUP_SITES + ";", group=BENCH_GROUP).split()
    print(f"created {len(inst.bench_sites):,} sites in {time.monotonic() - started:.1f} s")
    per_site = max(1, rows // len(inst.bench_sites))
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    inst.history_start, inst.history_end = end - timedelta(minutes=per_site - 1), end
    started = time.monotonic()
    psql(LOAD_HISTORY, group=BENCH_GROUP, start=inst.history_start.isoformat(), end=end.isoformat())
    loaded = time.monotonic() - started
    psql("ANALYZE sites_app_telemetryreport;")
    total = history_rows()
    print(
        f"loaded {per_site * len(inst.bench_sites):,} history rows ({per_site:,} a site) in {loaded:.0f} s"
        f" ({per_site * len(inst.bench_sites) / loaded:,.0f} rows/s); the table holds {total:,} rows"
    )


# --- a. Ingest ---------------------------------------------------------------------------------


class Backlog:
    """Batch bodies of distinct report times per site: each report one second before the
    previous one, from an hour ago backwards, at .250 s (never on a demo history's minute)."""

    def __init__(self, sites: list[str]):
        self.next = dict.fromkeys(sites, 0)
        self.base = datetime.now(UTC).replace(microsecond=250_000) - timedelta(hours=1)

    def bodies(self, site: str, count: int) -> list[bytes]:
        bodies = []
        for _ in range(count):
            first = self.next[site]
            self.next[site] += BATCH_SIZE
            reports = [
                {"reportedAt": _wire_time(self.base - timedelta(seconds=first + index)), "assets": ASSETS}
                for index in range(BATCH_SIZE)
            ]
            random.shuffle(reports)  # a backlog sent out of order
            bodies.append(json.dumps({"reports": reports}).encode())
        return bodies


def history_rows() -> int:
    return int(psql("SELECT count(*) FROM sites_app_telemetryreport;"))


@dataclass
class Ingest:
    sent: int
    stored: int
    seconds: float
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.stored / self.seconds if self.seconds else float("nan")

    @property
    def label(self) -> str:
        text = f"{self.rate:,.0f} reports/s ({self.stored:,} stored of {self.sent:,} sent"
        text += f" in {self.seconds:.2f} s)"
        return text + (f", {len(self.errors)} errors: {self.errors[0]}" if self.errors else "")


def post_batches(port: int, token: str, bodies: list[bytes], errors: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for body in bodies:
        connection.request("POST", "/api/v1/gateway/telemetry", body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status not in (200, 201, 202):
            errors.append(f"{response.status} {answer[:160]!r}")
    connection.close()


def ingest_batches(port: int, inst: Installation, backlog: Backlog, args) -> Ingest:
    """Every client POSTs its site's batches, at once; rows stored / wall time."""
    work = [(token, backlog.bodies(site, args.batches)) for site, token in inst.gateways[: args.clients]]
    errors: list[str] = []
    threads = [
        threading.Thread(target=post_batches, args=(port, token, bodies, errors)) for token, bodies in work
    ]
    before = history_rows()
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    sent = sum(len(bodies) for _token, bodies in work) * BATCH_SIZE
    return Ingest(sent=sent, stored=history_rows() - before, seconds=seconds, errors=errors)


def ingest_single(port: int, inst: Installation, args) -> Ingest:
    """The single-report form under wrk: one report a request, the client's clock."""
    _site, token = inst.gateways[0]
    before = history_rows()
    result = h.wrk(
        f"http://127.0.0.1:{port}/api/v1/gateway/telemetry",
        connections=args.clients,
        seconds=args.seconds,
        headers={"Authorization": f"Bearer {token}"},
        script=TELEMETRY_SCRIPT,
        script_args=[json.dumps(ASSETS)],
    )
    stored = history_rows() - before
    errors = [f"{result.errors} non-2xx or socket errors"] if result.errors else []
    return Ingest(sent=result.requests, stored=stored, seconds=result.seconds, errors=errors)


# --- b. and c. Queries -------------------------------------------------------------------------


@dataclass
class Latencies:
    samples: list[float] = field(default_factory=list)  # ms
    errors: list[str] = field(default_factory=list)
    points: list[int] = field(default_factory=list)

    def extend(self, other: Latencies) -> None:
        self.samples += other.samples
        self.errors += other.errors
        self.points += other.points

    def p(self, share: float) -> float:
        return h.percentile(self.samples, share)

    @property
    def label(self) -> str:
        if not self.samples:
            return f"not measured: {self.errors[0] if self.errors else 'no requests'}"
        text = f"p50 {self.p(0.5):.1f} ms, p95 {self.p(0.95):.1f} ms ({len(self.samples):,} requests"
        if self.points:
            text += f", {h.median(self.points):.0f} points each"
        text += ")"
        return text + (f", {len(self.errors)} errors: {self.errors[0]}" if self.errors else "")


def timed_gets(port: int, paths: list[str], headers: dict[str, str]) -> Latencies:
    """GET each path on one keep-alive connection; latency of each 200, the rest as errors."""
    result = Latencies()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for path in paths:
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            result.errors.append(f"{path.split('?')[0]}: {response.status} {body[:120]!r}")
            continue
        result.samples.append(elapsed)
        points = json.loads(body).get("points") if body[:1] == b"{" else None
        if isinstance(points, list):
            result.points.append(len(points))
    connection.close()
    return result


def one_day_query(inst: Installation, rng: random.Random) -> tuple[str, str]:
    """A random bench site and the query of one random day of its loaded history."""
    assert inst.history_start is not None and inst.history_end is not None
    span = max(0, int((inst.history_end - inst.history_start).total_seconds() // 60) - 24 * 60)
    start = inst.history_start + timedelta(minutes=rng.randint(0, span))
    query = urlencode(
        {"from": _wire_time(start), "to": _wire_time(start + timedelta(days=1)), "resolution": "15m"}
    )
    return rng.choice(inst.bench_sites), query


def history_paths(inst: Installation, rng: random.Random, count: int) -> list[str]:
    paths = []
    for _ in range(count):
        site_id, query = one_day_query(inst, rng)
        paths.append(f"/api/v1/public/sites/{site_id}/telemetry?{query}")
    return paths


def detail_paths(inst: Installation, rng: random.Random, count: int) -> list[str]:
    return [f"/api/v1/public/sites/{rng.choice(inst.bench_sites)}" for _ in range(count)]


def portal_session(port: int) -> dict[str, str]:
    """Cookies of the demo ``admin`` signed in through the login page."""
    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=False, timeout=30) as client:
        client.get("/login/")
        csrf = client.cookies.get("csrftoken", "")
        client.post(
            "/login/",
            data={"username": "admin", "password": "heat-admin", "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"http://127.0.0.1:{port}/login/"},
        )
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    return {"Cookie": cookie}


def portal_history_available(port: int, inst: Installation, headers: dict[str, str]) -> str | None:
    """None when the site page's history request answers 200, else what it answered."""
    errors = timed_gets(port, [PORTAL_HISTORY_PATH.format(site_id=inst.bench_sites[0])], headers).errors
    return errors[0] if errors else None


def portal_paths(inst: Installation, rng: random.Random, count: int) -> list[str]:
    return [PORTAL_HISTORY_PATH.format(site_id=rng.choice(inst.bench_sites)) for _ in range(count)]


# --- The run -------------------------------------------------------------------------------------


@dataclass
class Figures:
    batch: list[Ingest] = field(default_factory=list)
    single: list[Ingest] = field(default_factory=list)
    history: Latencies = field(default_factory=Latencies)  # all rounds pooled
    detail: Latencies = field(default_factory=Latencies)
    portal: Latencies = field(default_factory=Latencies)
    round_p95: dict[str, list[float]] = field(default_factory=dict)  # each round's p95 (ms)

    def p95(self, subject: str) -> float:
        """The median of the rounds' p95s: what the verdicts judge."""
        return h.median(self.round_p95.get(subject, []))

    portal_refusal: str | None = None  # what the site page's request answered, if not 200


def measure_ingest(port: int, inst: Installation, args, figures: Figures) -> None:
    backlog = Backlog([site for site, _token in inst.gateways])
    ingest_batches(port, inst, backlog, argparse.Namespace(**{**vars(args), "batches": 1}))  # warm-up

    def measure(subject: str, round_: int) -> Ingest:
        result = (
            ingest_batches(port, inst, backlog, args)
            if subject == "batch"
            else ingest_single(port, inst, args)
        )
        print(f"  round {round_} {subject:6}: {result.label}")
        return result

    results = h.interleaved(args.rounds, ["batch", "single"], measure)
    figures.batch, figures.single = results["batch"], results["single"]


def measure_queries(port: int, inst: Installation, args, figures: Figures) -> None:
    rng = random.Random(14)
    key = {"Authorization": f"Bearer {inst.site_key}"}
    portal = portal_session(port)
    figures.portal_refusal = portal_history_available(port, inst, portal)
    subjects = ["history", "detail", *([] if figures.portal_refusal else ["portal"])]
    for subject in subjects:  # warm-up: connections, caches, code paths
        measure_round(port, inst, subject, rng, key, portal, figures, 20)

    def measure(subject: str, round_: int) -> Latencies:
        result = measure_round(port, inst, subject, rng, key, portal, figures, args.queries)
        print(f"  round {round_} {subject:7}: {result.label}")
        return result

    for subject, rounds in h.interleaved(args.rounds, subjects, measure).items():
        figures.round_p95[subject] = [result.p(0.95) for result in rounds]
        for result in rounds:
            getattr(figures, subject).extend(result)


def measure_round(
    port: int, inst: Installation, subject: str, rng: random.Random, key, portal, figures: Figures, count: int
) -> Latencies:
    if subject == "history":
        return timed_gets(port, history_paths(inst, rng, count), key)
    if subject == "detail":
        return timed_gets(port, detail_paths(inst, rng, count), key)
    return timed_gets(port, portal_paths(inst, rng, count), portal)


def report_ingest(figures: Figures, args) -> bool:
    batch = h.median(result.rate for result in figures.batch)
    single = h.median(result.rate for result in figures.single)
    h.print_table(
        f"a. ingest on PostgreSQL, one web process, {args.clients} clients (medians of {args.rounds} rounds)",
        ["form", "achieved (median)", "rounds"],
        [
            ["batch of 1,000", f"{batch:,.0f} reports/s", " | ".join(r.label for r in figures.batch)],
            ["single report", f"{single:,.0f} reports/s", " | ".join(r.label for r in figures.single)],
            ["batch / single", f"{h.ratio(batch, single):.1f}x", ""],
        ],
    )
    target = f">= {INGEST_TARGET:,} reports/s per web process (batch)"
    return h.verdict(batch >= INGEST_TARGET, target, f"{batch:,.0f} reports/s")


def report_queries(figures: Figures, args) -> list[bool]:
    portal = f"not measured: {figures.portal_refusal}" if figures.portal_refusal else figures.portal.label
    h.print_table(
        f"b./c. queries, {args.rows:,} history rows over {args.sites:,} sites, one keep-alive client",
        ["request", "achieved (all rounds pooled)"],
        [
            ["public history, 1 day at 15m", figures.history.label],
            ["public site detail (reference)", figures.detail.label],
            ["site page history.json?range=24h", portal],
        ],
    )
    target = f"p95 <= {QUERY_TARGET_MS:g} ms (median of the rounds' p95s)"
    rounds = " / ".join(f"{value:.1f}" for value in figures.round_p95.get("history", []))
    passed = [
        h.verdict(
            figures.p95("history") <= QUERY_TARGET_MS,
            f"public history {target}",
            f"{figures.p95('history'):.1f} ms (rounds {rounds}; site detail {figures.p95('detail'):.1f} ms)",
        )
    ]
    if figures.portal_refusal:
        print(f"NOT MEASURED site page history: {PORTAL_HISTORY_PATH} answered {figures.portal_refusal}")
    else:
        rounds = " / ".join(f"{value:.1f}" for value in figures.round_p95.get("portal", []))
        passed.append(
            h.verdict(
                figures.p95("portal") <= QUERY_TARGET_MS,
                f"site page history {target}",
                f"{figures.p95('portal'):.1f} ms (rounds {rounds})",
            )
        )
    return passed


def report(figures: Figures, args) -> int:
    print()
    passed = [report_ingest(figures, args)]
    passed += report_queries(figures, args)
    print(f"{sum(passed)}/{len(passed)} targets met; {h.machine_line()}")
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="history rows to load for (b) and (c)")
    parser.add_argument("--sites", type=int, default=1000, help="sites they belong to")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=20, help="batches of 1,000 per client and round")
    parser.add_argument("--clients", type=int, default=2, help="concurrent clients (at most 3 for ingest)")
    parser.add_argument("--seconds", type=float, default=5, help="wrk run of the single-report form")
    parser.add_argument("--queries", type=int, default=200, help="requests per endpoint and round")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 2 rounds, fewer requests")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.rounds, args.batches, args.seconds, args.queries = 100_000, 2, 3, 2, 50
    args.clients = max(1, args.clients)
    return args


def main() -> int:
    args = parse_args()
    started = time.monotonic()
    print(f"history_bench: {h.machine_line()}")
    inst = prepare()
    args.clients = min(args.clients, len(inst.gateways))
    load_history(inst, sites=args.sites, rows=args.rows)
    port = h.free_port()
    server = h.Server(
        "heat-history",
        h.heat_server_command(port),
        env=inst.env,
        port=port,
        health="/api/v1/health",
        log_dir=inst.data_dir,
    )
    figures = Figures()
    try:
        server.start()
        print(f"\na. ingest ({args.rounds} interleaved rounds)")
        measure_ingest(server.port, inst, args, figures)
        print(f"\nb./c. queries ({args.rounds} interleaved rounds, {args.queries} requests each)")
        measure_queries(server.port, inst, args, figures)
    finally:
        server.stop()
        if not args.keep:
            drop_database()
    report(figures, args)
    print(f"total time {time.monotonic() - started:.0f} s; server log {server.log_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
