"""HEAT's scenario runner API side by side with its peer, algomancy-api 0.10.0 (issue 11).

    bash bench/peer/setup.sh                                   # once: the peer's virtualenv, wrk
    .venv/bin/python bench/runner_bench.py                     # embedded and PostgreSQL + Redis
    .venv/bin/python bench/runner_bench.py --backend embedded --quick   # a smoke check

For each backend (``embedded``: SQLite, filesystem broker; ``pg``: PostgreSQL ``heat_bench`` +
Redis db 12) it starts, side by side, one process each: HEAT (harness.heat_server_command) with
one Celery worker (prefork, one pool process), the peer (bench/peer/app.py under uvicorn, in its
own virtualenv) and the floor (bench/floor: a bare Django view, same server command as HEAT).
Then, in interleaved rounds (each measurement: HEAT, peer, floor, then the next), the same
client measures:

1. ``GET /api/v1/sessions/main/scenarios/{id}/status`` with wrk at -c1, -c10, -c50: req/s, p50,
   p99, and the server's CPU time per request (/proc, its process tree). The floor answers
   a JSON body of the same shape from a sync and an async view.
2. ``GET /api/v1/sessions/main/scenarios`` with 20 scenarios in ``main`` (wrk -c10).
3. ``Slow`` duration 1 in a fresh session (a copy of ``main``): ``POST .../run`` → ``complete``
   seen by a client polling the status every 5 ms; overhead = elapsed - 1,000 ms.
4. Create + run pairs in that session at -c1 (wrk with bench/lua/create_run.lua: a create, then a
   run of it, on one keep-alive connection); the session is deleted afterwards, so that its
   backlog does not queue ahead of the next round's ``Slow`` (HEAT's worker then skips it).

Figures are medians over the rounds; a verdict's ratio is the less favourable to HEAT of the
ratio of the medians and the median of the per-round ratios. Every row
says what was achieved. Targets (issue 11): status req/s >= 1.0x the peer at each concurrency
and p99 <= 1.5x the peer's; list >= 1.0x; create + run >= 0.5x; ``Slow`` overhead <= 60 ms;
CPU per status request <= 2x the floor's (the cheaper of its two views). Exits 0 whatever
the verdicts (a benchmark); non-zero only when the set-up fails.

The same bearer header goes to all three servers; the peer has no authentication and ignores
it. Where the two APIs differ on these endpoints, see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h

API = "/api/v1"
SESSION = "main"
LIST_SIZE = 20
CONCURRENCIES = (1, 10, 50)
RUNNERS = ("HEAT", "peer")
FLOORS = ("floor sync", "floor async")
CREATE_RUN_SCRIPT = h.BENCH / "lua" / "create_run.lua"
SCENARIO_BODY = {"dataset_key": "Master data", "algo_name": "Slow", "algo_params": {"duration": 1}}


@dataclass
class Side:
    """One server under test and what the bench set up on it."""

    name: str
    server: h.Server
    headers: dict[str, str]
    status_path: str = ""  # the polled scenario's status URL path
    runs_session: str = ""  # this round's session for Slow and create + run
    client: httpx.Client | None = None
    figures: dict[str, list] = field(default_factory=dict)

    def record(self, key: str, value) -> None:
        self.figures.setdefault(key, []).append(value)

    def http(self) -> httpx.Client:
        if self.client is None:
            self.client = httpx.Client(base_url=self.server.base, headers=self.headers, timeout=30)
        return self.client

    def call(self, method: str, path: str, expect: int, **kwargs) -> httpx.Response:
        response = self.http().request(method, path, **kwargs)
        if response.status_code != expect:
            answer = f"{response.status_code}, not {expect}: {response.text[:300]}"
            raise SystemExit(f"{self.name}: {method} {path} answered {answer}")
        return response


# --- Set-up ---------------------------------------------------------------------------------


def fill_main(side: Side) -> None:
    """``main`` holds exactly LIST_SIZE created Slow scenarios on both sides, one of them the
    polled one (HEAT's seed_demo scenarios are deleted first, so both lists hold alike rows)."""
    for scenario in side.call("GET", f"{API}/sessions/{SESSION}/scenarios", 200).json():
        side.call("DELETE", f"{API}/sessions/{SESSION}/scenarios/{scenario['id']}", 204)
    polled = side.call(
        "POST", f"{API}/sessions/{SESSION}/scenarios", 201, json={"tag": "polled", **SCENARIO_BODY}
    )
    side.status_path = f"{API}/sessions/{SESSION}/scenarios/{polled.json()['id']}/status"
    for index in range(1, LIST_SIZE):
        side.call(
            "POST",
            f"{API}/sessions/{SESSION}/scenarios",
            201,
            json={"tag": f"listed-{index:02d}", **SCENARIO_BODY},
        )
    listed = side.call("GET", f"{API}/sessions/{SESSION}/scenarios", 200).json()
    if len(listed) != LIST_SIZE:
        raise SystemExit(f"{side.name}: main lists {len(listed)} scenarios, not {LIST_SIZE}")
    status = side.call("GET", side.status_path, 200).json()
    if status.get("status") != "created":
        raise SystemExit(f"{side.name}: the polled scenario is {status}")


def open_runs_session(side: Side, round_: int) -> None:
    """A copy of ``main`` (it brings ``Master data``) for this round's runs."""
    name = f"runs-{round_}"
    answer = side.call("POST", f"{API}/sessions/{SESSION}/copy", 201, json={"new_display_name": name}).json()
    side.runs_session = next(entry["id"] for entry in answer["sessions"] if entry["display_name"] == name)


def close_runs_session(side: Side) -> None:
    side.call("DELETE", f"{API}/sessions/{side.runs_session}", 200)


# --- Measurements ---------------------------------------------------------------------------


def measure_status(side: Side, url_path: str, connections: int, seconds: float) -> h.WrkResult:
    return h.cpu_per_request(
        side.server,
        lambda: h.wrk(
            side.server.base + url_path, connections=connections, seconds=seconds, headers=side.headers
        ),
    )


def measure_slow(side: Side, tag: str) -> dict:
    """POST run → ``complete`` seen, polling the status every 5 ms on one keep-alive client."""
    base = f"{API}/sessions/{side.runs_session}/scenarios"
    scenario = side.call("POST", base, 201, json={"tag": tag, **SCENARIO_BODY}).json()["id"]
    client = side.http()
    started = time.perf_counter()
    answered = client.post(f"{base}/{scenario}/run")
    run_answered = time.perf_counter() - started
    if answered.status_code != 202:
        raise SystemExit(f"{side.name}: run answered {answered.status_code}: {answered.text[:300]}")
    processing_seen = None
    status = ""
    while time.perf_counter() - started < 60:
        status = client.get(f"{base}/{scenario}/status").json()["status"]
        if status == "processing" and processing_seen is None:
            processing_seen = time.perf_counter() - started
        if status in ("complete", "failed"):
            break
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    return {
        "status": status,
        "elapsed_ms": elapsed * 1000,
        "overhead_ms": elapsed * 1000 - 1000,
        "run_answered_ms": run_answered * 1000,
        "processing_seen_ms": (processing_seen or float("nan")) * 1000,
    }


def measure_create_run(side: Side, seconds: float, round_: int) -> dict:
    result = h.wrk(
        side.server.base,
        connections=1,
        threads=1,
        seconds=seconds,
        headers=side.headers,
        script=CREATE_RUN_SCRIPT,
        script_args=[f"{API}/sessions/{side.runs_session}", f"cr{round_}"],
    )
    counts = result.output.split("pairs ", 1)[1].split()
    pairs, creates, other = int(counts[0]), int(counts[2]), int(counts[4])
    return {
        "pairs_per_s": pairs / result.seconds,
        "pairs": pairs,
        "creates": creates,
        "other": other,
        "seconds": result.seconds,
    }


# --- One backend ----------------------------------------------------------------------------


def run_backend(backend: str, args) -> dict:
    print(f"\n=== backend {backend}: setting up", flush=True)
    data_dir, env, token = h.heat_prepare(backend)
    headers = {"Authorization": f"Bearer {token}"}
    logs = data_dir / "logs"
    logs.mkdir()
    heat, worker, peer, floor = make_servers(env, logs)
    servers = [heat, worker, peer, floor]
    sides: dict[str, Side] = {}
    finished = False
    try:
        for server in servers:
            server.start()
        sides = {
            "HEAT": Side("HEAT", heat, headers),
            "peer": Side("peer", peer, headers),
            "floor sync": Side("floor sync", floor, headers, status_path="/sync"),
            "floor async": Side("floor async", floor, headers, status_path="/async"),
        }
        for name in ("HEAT", "peer"):
            fill_main(sides[name])
        print(f"    HEAT {heat.base} (+ worker), peer {peer.base}, floor {floor.base}; logs in {logs}")
        print(f"    {h.machine_line()}", flush=True)
        warm_up(sides, headers)
        for round_ in range(1, args.rounds + 1):
            measure_round(sides, args, round_)
        idle = peer.cpu_seconds()
        time.sleep(1)
        peer_idle_ms = (peer.cpu_seconds() - idle) * 1000
        finished = True
    finally:
        shut_down(sides, servers)
        if finished and not args.keep:
            h.remove_tree(data_dir)
        else:
            print(f"    kept {data_dir} (logs in {logs})")
    return report(backend, sides, args, peer_idle_ms)


def make_servers(env: dict[str, str], logs: Path) -> tuple[h.Server, h.Server, h.Server, h.Server]:
    """HEAT, its worker, the peer and the floor, each on a free port (not started)."""
    ports: list[int] = []
    for _ in range(3):
        ports.append(h.free_port(taken=ports))
    floor_env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    floor_env.update({"DJANGO_SETTINGS_MODULE": "bench.floor.settings", "PYTHONUNBUFFERED": "1"})
    heat = h.Server(
        "heat", h.heat_server_command(ports[0]), env=env, port=ports[0], health=f"{API}/health", log_dir=logs
    )
    worker = h.Server("heat-worker", h.heat_worker_command(), env=env, health=None, log_dir=logs)
    peer = h.Server("peer", h.peer_server_command(ports[1]), port=ports[1], health="/health", log_dir=logs)
    floor = h.Server(
        "floor",
        h.floor_server_command(ports[2]),
        env=floor_env,
        port=ports[2],
        health="/health",
        log_dir=logs,
    )
    return heat, worker, peer, floor


def warm_up(sides: dict[str, Side], headers: dict[str, str]) -> None:
    """Lazy imports, first connections, caches: one short wrk run on each URL measured."""
    for side in sides.values():
        h.wrk(side.server.base + side.status_path, connections=10, seconds=1, headers=headers)
    for name in RUNNERS:
        h.wrk(
            sides[name].server.base + f"{API}/sessions/{SESSION}/scenarios",
            connections=10,
            seconds=1,
            headers=headers,
        )


def measure_round(sides: dict[str, Side], args, round_: int) -> None:
    """One interleaved round of every measurement, each on every side in turn."""
    print(f"    round {round_}/{args.rounds}", flush=True)
    runners = [sides[name] for name in RUNNERS]
    for connections in CONCURRENCIES:
        for side in sides.values():
            side.record(
                f"status c{connections}",
                measure_status(side, side.status_path, connections, args.seconds),
            )
    for side in runners:
        side.record("list", measure_status(side, f"{API}/sessions/{SESSION}/scenarios", 10, args.seconds))
    for side in runners:
        open_runs_session(side, round_)
        for index in range(args.slow_runs):
            side.record("slow", measure_slow(side, f"slow-{round_}-{index}"))
    for side in runners:
        side.record("create+run", measure_create_run(side, args.seconds, round_))
        close_runs_session(side)


def shut_down(sides: dict[str, Side], servers: list[h.Server]) -> None:
    for side in sides.values():
        if side.client is not None:
            side.client.close()
    for server in servers:
        if server.process is not None and server.process.poll() is not None:
            code = server.process.returncode
            print(f"    {server.name} had exited (code {code}); see {server.log_path}")
    for server in reversed(servers):
        server.stop()


# --- Report ---------------------------------------------------------------------------------


def med(runs: list, key: str) -> float:
    """Median over the rounds of one figure (an attribute of a WrkResult, or a dict key)."""
    return h.median(run[key] if isinstance(run, dict) else getattr(run, key) for run in runs)


def judged_ratio(heat_runs: list, peer_runs: list, key: str, *, higher_is_better: bool) -> float:
    """HEAT / peer as the verdict sees it: the less favourable to HEAT of the ratio of the
    medians and the median of the per-round ratios (rounds are interleaved, so a round's
    pair shares the machine's drift; on a loaded machine one noisy round can still swing
    either figure, and a verdict must not pass on that)."""
    pairs = zip(heat_runs, peer_runs, strict=True)
    per_round = h.median(h.ratio(med([heat], key), med([peer], key)) for heat, peer in pairs)
    of_medians = h.ratio(med(heat_runs, key), med(peer_runs, key))
    return min(per_round, of_medians) if higher_is_better else max(per_round, of_medians)


def wrk_row(runs: list[h.WrkResult]) -> list[str]:
    return [
        f"{med(runs, 'rps'):,.0f}",
        f"{med(runs, 'p50_ms'):.1f}",
        f"{med(runs, 'p99_ms'):.1f}",
        f"{med(runs, 'cpu_ms_per_request'):.2f}",
        f"{med(runs, 'requests'):,.0f}",
        str(sum(run.errors for run in runs)),
        f"{med(runs, 'bytes_per_response'):,.0f}",
    ]


WRK_COLUMNS = ["req/s", "p50 ms", "p99 ms", "CPU ms/req", "requests", "errors", "bytes/resp"]


def print_tables(backend: str, sides: dict[str, Side], peer_idle_ms: float) -> None:
    rows = []
    for connections in CONCURRENCIES:
        for name, side in sides.items():
            rows.append([f"-c{connections}", name, *wrk_row(side.figures[f"status c{connections}"])])
    title = f"GET .../scenarios/{{id}}/status (floor: a bare view, same JSON shape) [{backend}]"
    h.print_table(title, ["conc", "server", *WRK_COLUMNS], rows)

    rows = [[name, *wrk_row(sides[name].figures["list"])] for name in RUNNERS]
    h.print_table(
        f"GET .../sessions/main/scenarios, {LIST_SIZE} scenarios, -c10 [{backend}]",
        ["server", *WRK_COLUMNS],
        rows,
    )
    print_create_run_table(backend, sides)
    print_slow_table(backend, sides)
    print(
        f"  (peer CPU in 1 s idle at the end: {peer_idle_ms:.0f} ms; the threads of its deleted sessions "
        "still sleep through their queued Slow runs)"
    )


def print_create_run_table(backend: str, sides: dict[str, Side]) -> None:
    rows = []
    for name in RUNNERS:
        runs = sides[name].figures["create+run"]
        rows.append(
            [
                name,
                f"{med(runs, 'pairs_per_s'):,.1f}",
                str(sum(run["pairs"] for run in runs)),
                str(sum(run["other"] for run in runs)),
            ]
        )
    title = f"Create + run pairs, one connection (wrk + bench/lua/create_run.lua) [{backend}]"
    h.print_table(title, ["server", "pairs/s", "pairs (all rounds)", "failed answers"], rows)


def print_slow_table(backend: str, sides: dict[str, Side]) -> None:
    rows = []
    for name in RUNNERS:
        runs = sides[name].figures["slow"]
        outcome = ", ".join(sorted({run["status"] for run in runs}))
        rows.append(
            [
                name,
                f"{med(runs, 'elapsed_ms'):,.0f}",
                f"{med(runs, 'overhead_ms'):.0f}",
                f"{max(run['overhead_ms'] for run in runs):.0f}",
                f"{med(runs, 'run_answered_ms'):.1f}",
                f"{med(runs, 'processing_seen_ms'):.0f}",
                f"{len(runs)} ({outcome})",
            ]
        )
    header = [
        "server",
        "elapsed ms",
        "overhead ms",
        "max overhead",
        "run answered ms",
        "processing seen ms",
        "runs",
    ]
    h.print_table(f"Slow duration 1: POST run -> complete seen, polling every 5 ms [{backend}]", header, rows)


def print_verdicts(backend: str, sides: dict[str, Side]) -> list[bool]:
    heat, peer = sides["HEAT"].figures, sides["peer"].figures
    verdicts = status_verdicts(backend, heat, peer)
    value = judged_ratio(heat["list"], peer["list"], "rps", higher_is_better=True)
    achieved = f"{value:.2f}x ({med(heat['list'], 'rps'):,.0f} vs {med(peer['list'], 'rps'):,.0f} req/s)"
    verdicts.append(h.verdict(value >= 1.0, f"[{backend}] list of {LIST_SIZE} req/s >= 1.0x peer", achieved))
    value = judged_ratio(heat["create+run"], peer["create+run"], "pairs_per_s", higher_is_better=True)
    achieved = (
        f"{value:.2f}x ({med(heat['create+run'], 'pairs_per_s'):,.1f} vs "
        f"{med(peer['create+run'], 'pairs_per_s'):,.1f} pairs/s)"
    )
    verdicts.append(h.verdict(value >= 0.5, f"[{backend}] create + run pairs/s >= 0.5x peer", achieved))
    overhead = med(heat["slow"], "overhead_ms")
    complete = all(run["status"] == "complete" for run in heat["slow"])
    achieved = f"{overhead:.0f} ms (peer {med(peer['slow'], 'overhead_ms'):.0f} ms)"
    verdicts.append(
        h.verdict(
            overhead <= 60 and complete,
            f"[{backend}] Slow duration 1 overhead <= 60 ms",
            achieved + ("" if complete else ", not every run completed"),
        )
    )
    verdicts.append(cpu_verdict(backend, sides))
    return verdicts


def status_verdicts(backend: str, heat: dict[str, list], peer: dict[str, list]) -> list[bool]:
    """req/s and p99 of the status endpoint against the peer's, at each concurrency."""
    verdicts = []
    for connections in CONCURRENCIES:
        key = f"status c{connections}"
        rps, p99 = (
            judged_ratio(heat[key], peer[key], "rps", higher_is_better=True),
            judged_ratio(heat[key], peer[key], "p99_ms", higher_is_better=False),
        )
        errors = sum(run.errors for run in heat[key])
        achieved = f"{rps:.2f}x ({med(heat[key], 'rps'):,.0f} vs {med(peer[key], 'rps'):,.0f} req/s)"
        verdicts.append(
            h.verdict(
                rps >= 1.0 and not errors,
                f"[{backend}] status -c{connections} req/s >= 1.0x peer",
                achieved + (f", {errors} HEAT errors" if errors else ""),
            )
        )
        achieved = f"{p99:.2f}x ({med(heat[key], 'p99_ms'):.1f} vs {med(peer[key], 'p99_ms'):.1f} ms)"
        verdicts.append(
            h.verdict(p99 <= 1.5, f"[{backend}] status -c{connections} p99 <= 1.5x peer", achieved)
        )
    return verdicts


def cpu_verdict(backend: str, sides: dict[str, Side]) -> bool:
    """HEAT's CPU per status request (-c10) against the cheaper of the floor's two views."""
    heat, peer = sides["HEAT"].figures, sides["peer"].figures
    cpu_heat, cpu_peer = (
        med(heat["status c10"], "cpu_ms_per_request"),
        med(peer["status c10"], "cpu_ms_per_request"),
    )
    cpu_floor = min(med(sides[name].figures["status c10"], "cpu_ms_per_request") for name in FLOORS)
    achieved = (
        f"{h.ratio(cpu_heat, cpu_floor):.1f}x ({cpu_heat:.2f} ms vs floor {cpu_floor:.2f} ms, "
        f"the cheaper of its views; peer {cpu_peer:.2f} ms)"
    )
    return h.verdict(
        cpu_heat <= 2 * cpu_floor, f"[{backend}] CPU per status request (-c10) <= 2x floor", achieved
    )


def report(backend: str, sides: dict[str, Side], args, peer_idle_ms: float) -> dict:
    print(
        f"\n--- backend {backend}: {args.rounds} interleaved round(s), medians, {args.seconds:g} s wrk runs"
    )
    print_tables(backend, sides, peer_idle_ms)
    print()
    verdicts = print_verdicts(backend, sides)
    return {"backend": backend, "passed": sum(verdicts), "targets": len(verdicts)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("embedded", "pg", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--seconds", type=float, default=3, help="length of each wrk run (default 3)")
    parser.add_argument("--slow-runs", type=int, default=2, help="Slow runs per server per round (default 2)")
    parser.add_argument("--quick", action="store_true", help="1 round, 1 s runs, 1 Slow run: a smoke check")
    parser.add_argument("--keep", action="store_true", help="keep the data folder and logs")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.slow_runs = 1, 1, 1
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: run bash bench/peer/setup.sh (it installs wrk)")
    if not (h.PEER_VENV / "bin" / "uvicorn").exists():
        raise SystemExit(f"the peer's virtualenv {h.PEER_VENV} is missing: run bash bench/peer/setup.sh")
    started = time.monotonic()
    print("HEAT runner API vs algomancy-api 0.10.0 (peer) vs a bare Django view (floor)")
    for name, command, python in (
        ("HEAT", h.heat_server_command(0), h.VENV_BIN / "python"),
        ("peer", h.peer_server_command(0), h.PEER_VENV / "bin" / "python"),
    ):
        print(f"  {name}: {' '.join(command).replace(' 0 ', ' PORT ')}  (Python {h.python_version(python)})")
    print("  client: wrk -t2 (-t1 at -c1), the same bearer header to all (the peer has no auth: ignored)")
    return h.run_backends(lambda backend: run_backend(backend, args), args.backend, started)


if __name__ == "__main__":
    sys.exit(main())
