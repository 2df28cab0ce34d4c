"""Scenario runner benchmark: prints figures (it is not a timed test).

    .venv/bin/python bench/scenarios_bench.py                       # embedded: SQLite + filesystem broker
    DATABASE_URL=postgres://... REDIS_URL=redis://.../N .venv/bin/python bench/scenarios_bench.py

1. Status polling: requests per second of ``GET .../status`` (bearer token, the runner API as
   served) against a bare Django view (``HttpResponse("ok")``) on the same uvicorn server, in
   the same run, with the same client. Target: at least 50 %.
2. Queue latency: ``run`` → ``processing`` with a warm worker, from the scenario's own
   timestamps (``queued_at`` → ``started_at``). Target: p50 under 200 ms.
3. 100 scenarios over 10 sessions, all enqueued at once: all complete, never two processing
   in one session (sampled every 20 ms), and each session's in the order they were enqueued.

The server (uvicorn, one process) and a Celery worker run as subprocesses; the data folder is
a fresh temporary one unless DATABASE_URL is given (then the database must be a scratch one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import free_port, percentile, wait_until  # noqa: E402

# --- The server: the portal's URLs plus one bare view -------------------------------------------


def bare(request):
    from django.http import HttpResponse

    return HttpResponse(b"ok", content_type="text/plain")


def _urlpatterns():
    from django.urls import include, path

    return [path("bench/bare", bare), path("", include("heatportal.urls"))]


def serve(port: int) -> None:
    import django
    from django.conf import settings

    django.setup()
    module = type(sys)("scenarios_bench_urls")
    module.urlpatterns = _urlpatterns()
    module.handler404 = "heatportal.views.handler404"
    module.handler500 = "heatportal.views.handler500"
    sys.modules["scenarios_bench_urls"] = module
    settings.ROOT_URLCONF = "scenarios_bench_urls"
    import uvicorn
    from django.core.asgi import get_asgi_application

    uvicorn.run(get_asgi_application(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")


# --- Helpers ----------------------------------------------------------------------------------


async def hammer(url: str, headers: dict, seconds: float, concurrency: int) -> tuple[float, int]:
    import httpx

    done = errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=10) as client:

        async def loop():
            nonlocal done, errors
            while time.perf_counter() < deadline:
                response = await client.get(url)
                if response.status_code == 200:
                    done += 1
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return done / elapsed, errors


# --- Main -------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each polling round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved polling rounds")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent polling clients")
    parser.add_argument("--latency-runs", type=int, default=30)
    parser.add_argument("--worker-concurrency", type=int, default=4)
    parser.add_argument("--parts", default="123", help="which parts to run, e.g. 13")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.serve:
        serve(args.serve)
        return
    data_dir = Path(tempfile.mkdtemp(prefix="scenarios-bench-"))
    env = prepare_database(data_dir)
    main_session, headers, backend = prepare_data()
    broker = "redis" if os.environ.get("REDIS_URL") else "filesystem"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = data_dir / "logs"
    logs.mkdir()
    processes: list[subprocess.Popen] = []
    try:
        processes.append(start_server(port, env, logs))
        processes.append(start_worker(port, env, logs, args.worker_concurrency))
        if not wait_until(lambda: server_up(base), 30, 0.2):
            raise SystemExit(f"the server did not start; see {logs / 'web.log'}")
        print(f"HEAT scenario runner benchmark — database {backend}, broker {broker}, "
              f"{os.cpu_count()} CPUs, uvicorn (1 process), "
              f"worker concurrency {args.worker_concurrency}")  # fmt: skip
        if "1" in args.parts:
            polling(base, headers, main_session, args)
        if "2" in args.parts:
            latency(base, headers, main_session, args)
        if "3" in args.parts:
            many(base, headers, args)
    finally:
        stop_processes(processes)
        if not os.environ.get("DATABASE_URL"):
            shutil.rmtree(data_dir, ignore_errors=True)


def prepare_database(data_dir: Path) -> dict[str, str]:
    """The environment of this run (set here too), with the database migrated."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "heatportal.settings.base",
        "HEAT_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def prepare_data():
    """A fresh ``main`` session and a bench user: ``(main session, bearer headers, database vendor)``."""
    import django

    django.setup()
    from django.db import connection

    from heatportal.accounts.models import AccessToken, User
    from heatportal.credentials import credential_issue
    from scenarios_app import services
    from scenarios_app.models import RunnerSession, Scenario

    Scenario.objects.all().delete()
    RunnerSession.objects.all().delete()
    services.session_ensure_default()
    main_session = RunnerSession.objects.get(display_name="main")
    user, _ = User.objects.get_or_create(username="bench", defaults={"role": "Admin"})
    _token, token = credential_issue(AccessToken, user=user)
    return main_session, {"Authorization": f"Bearer {token}"}, connection.vendor


def start_server(port: int, env: dict[str, str], logs: Path) -> subprocess.Popen:
    """This script with ``--serve``: uvicorn, one process."""
    return subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)],
        cwd=ROOT, env=env, stdout=open(logs / "web.log", "wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def start_worker(port: int, env: dict[str, str], logs: Path, concurrency: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "heatportal", "worker", "--loglevel", "WARNING",
         "--concurrency", str(concurrency), "--without-mingle", "--without-gossip",
         "--hostname", f"bench-{port}@localhost"],
        cwd=ROOT, env=env, stdout=open(logs / "worker.log", "wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def stop_processes(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def server_up(base: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{base}/bench/bare", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def polling(base, headers, main_session, args) -> None:
    import httpx

    from scenarios_app import services

    scenario = services.scenario_create(
        session=main_session, tag="polled", dataset_key="Master data", algo_name="Slow"
    )
    status_url = f"{base}/api/v1/sessions/main/scenarios/{scenario.pk}/status"
    assert httpx.get(status_url, headers=headers).json()["status"] == "created"
    by_uuid = f"{base}/api/v1/sessions/{main_session.pk}/scenarios/{scenario.pk}/status"
    targets = (("bare", f"{base}/bench/bare"), ("status", status_url), ("status_uuid", by_uuid))
    rounds: dict[str, list[float]] = {name: [] for name, _ in targets}
    for _ in range(args.rounds):  # interleaved, so that the machine's drift hits all alike
        for name, url in targets:
            rate, errors = asyncio.run(hammer(url, headers, args.seconds, args.concurrency))
            assert errors == 0, f"{errors} failed requests on {name}"
            rounds[name].append(rate)
    ratios = [status / bare for status, bare in zip(rounds["status"], rounds["bare"], strict=True)]
    ratio = statistics.median(ratios)
    print(f"\n1. Status polling ({args.rounds} interleaved rounds of {args.seconds:g} s each, "
          f"{args.concurrency} concurrent keep-alive clients; medians)")  # fmt: skip
    print(f"   bare Django view                  {statistics.median(rounds['bare']):8.0f} req/s")
    print(f"   GET .../status (sid = name)       {statistics.median(rounds['status']):8.0f} req/s")
    print(f"   GET .../status (sid = UUID)       {statistics.median(rounds['status_uuid']):8.0f} req/s")
    print(f"   ratio per round                   {', '.join(f'{value:.0%}' for value in ratios)}")
    verdict = "OK" if ratio >= 0.5 else "MISSED"
    print(f"   ratio (median)                    {ratio:8.1%}   target >= 50%  {verdict}")


def latency(base, headers, main_session, args) -> None:
    import httpx

    runs = []
    client = httpx.Client(headers=headers)  # one keep-alive connection, as a polling client has
    for index in range(args.latency_runs + 1):  # the first one warms the worker up: not counted
        run = latency_run(client, base, main_session, index)
        if index > 0:
            runs.append(run)
    client.close()
    print_latency(runs, args)


def latency_run(client, base: str, main_session, index: int) -> dict[str, float]:
    """One ``Slow`` run of 1 s: what the client saw and what the scenario's timestamps say (s)."""
    from scenarios_app import services
    from scenarios_app.models import Scenario

    scenario = services.scenario_create(
        session=main_session, tag=f"latency-{index}", dataset_key="Master data", algo_name="Slow",
        algo_params={"duration": 1},
    )  # fmt: skip
    status = f"{base}/api/v1/sessions/main/scenarios/{scenario.pk}/status"
    sent_at = time.time()  # the wall clock, to set against the row's timestamps
    sent = time.perf_counter()
    response = client.post(f"{base}/api/v1/sessions/main/scenarios/{scenario.pk}/run")
    posted = time.perf_counter() - sent
    assert response.status_code == 202, response.text
    seen = {"status": "queued"}

    def poll(url=status, seen=seen):
        seen["status"] = client.get(url).json()["status"]
        return seen["status"]

    wait_until(lambda: poll() != "queued", 60, 0.005)
    processing_seen = time.perf_counter() - sent
    # The same client goes on polling every 5 ms until the run is over, as the peer's
    # clients do: what it sees is the whole cost of a run, 1 s of it the algorithm's.
    wait_until(
        lambda seen=seen: seen["status"] in ("complete", "failed") or poll() in ("complete", "failed"),
        60,
        0.005,
    )
    complete_seen = time.perf_counter() - sent
    assert seen["status"] == "complete", seen
    row = Scenario.objects.get(pk=scenario.pk)
    return {
        "posted": posted,
        "observed": processing_seen,
        "complete": complete_seen,
        "latency": (row.started_at - row.queued_at).total_seconds(),
        "web": row.queued_at.timestamp() - sent_at,
        "dispatch": (row.started_at - row.queued_at).total_seconds(),
        "run": (row.finished_at - row.started_at).total_seconds() - 1.0,
        "seen": sent_at + complete_seen - row.finished_at.timestamp(),
    }


def print_latency(runs: list[dict[str, float]], args) -> None:
    def figures(name: str) -> list[float]:
        return [run[name] for run in runs]

    def p50_ms(name: str) -> float:
        return statistics.median(figures(name)) * 1000

    latencies, observed, completes = figures("latency"), figures("observed"), figures("complete")
    p50 = statistics.median(latencies)
    overheads = [elapsed - 1.0 for elapsed in completes]
    overhead = statistics.median(overheads)
    print(f"\n2. Queue latency run → processing ({args.latency_runs} runs after one not counted, "
          "Slow duration 1, warm worker)")  # fmt: skip
    print(f"   server: queued_at → started_at          p50 {p50 * 1000:6.1f} ms   p95 "
          f"{percentile(latencies, 0.95) * 1000:6.1f} ms   max {max(latencies) * 1000:6.1f} ms   "
          f"target p50 < 200 ms  {'OK' if p50 < 0.2 else 'MISSED'}")  # fmt: skip
    print(f"   client: POST run answered (202)         p50 {p50_ms('posted'):6.1f} ms")
    print(f"   client: POST run sent → status not queued p50 {p50_ms('observed'):6.1f} ms "
          f"p95 {percentile(observed, 0.95) * 1000:6.1f} ms (polling every 5 ms over HTTP)")  # fmt: skip
    print(f"   client: POST run sent → complete seen   p50 {p50_ms('complete'):6.1f} ms; "
          f"overhead (minus 1,000 ms) p50 {overhead * 1000:5.1f} ms  "
          f"p95 {percentile(overheads, 0.95) * 1000:5.1f} ms"
          f"   target p50 <= 60 ms  {'OK' if overhead <= 0.06 else 'MISSED'}")  # fmt: skip
    print("   where the overhead goes (p50 each, ms): "
          f"POST sent → queued_at {p50_ms('web'):.1f}; "
          f"queued_at → started_at {p50_ms('dispatch'):.1f}; "
          f"started_at → finished_at minus 1 s {p50_ms('run'):.1f}; "
          f"finished_at → complete seen {p50_ms('seen'):.1f}")  # fmt: skip


def many(base, headers, args) -> None:
    import httpx

    from scenarios_app.models import Scenario

    sessions, scenarios = create_many()
    started = time.perf_counter()
    for scenario in scenarios:
        response = httpx.post(
            f"{base}/api/v1/sessions/{scenario.session_id}/scenarios/{scenario.pk}/run", headers=headers
        )
        assert response.status_code == 202
    ids = [scenario.pk for scenario in scenarios]
    most_in_session, most_overall = watch_processing(ids, started)
    elapsed = time.perf_counter() - started
    finished = Scenario.objects.filter(pk__in=ids)
    complete = finished.filter(status="complete").count()
    in_order = all(
        list(finished.filter(session=session).order_by("started_at").values_list("tag", flat=True))
        == [f"s{index:02d}" for index in range(10)]
        for session in sessions
    )
    print("\n3. 100 scenarios over 10 sessions (Slow duration 1, all enqueued at once)")
    print(f"   complete {complete}/100 in {elapsed:.1f} s; "
          f"most processing in one session {most_in_session}"
          f" (sampled every 20 ms); most processing at once {most_overall}; "
          f"each session in enqueue order: {in_order}")  # fmt: skip
    print(f"   {'OK' if complete == 100 and most_in_session == 1 and in_order else 'MISSED'}")


def create_many() -> tuple[list, list]:
    """10 sessions of 10 created ``Slow`` scenarios each: ``(sessions, scenarios)``."""
    from scenarios_app import services

    sessions = [
        services.session_create(display_name=f"bench-{index}", with_master_data=True) for index in range(10)
    ]
    scenarios = []
    for session in sessions:
        for index in range(10):
            scenarios.append(
                services.scenario_create(
                    session=session, tag=f"s{index:02d}", dataset_key="Master data", algo_name="Slow",
                    algo_params={"duration": 1},
                )
            )  # fmt: skip
    return sessions, scenarios


def watch_processing(ids: list, started: float) -> tuple[int, int]:
    """Sample the scenarios every 20 ms until all have ended (or 600 s have passed):
    ``(most processing in one session, most processing at once)``."""
    from scenarios_app.models import Scenario

    most_in_session = most_overall = 0
    while True:
        rows = list(Scenario.objects.filter(pk__in=ids).values_list("session_id", "status"))
        processing: dict = {}
        for session_id, status in rows:
            if status == "processing":
                processing[session_id] = processing.get(session_id, 0) + 1
        most_in_session = max([most_in_session, *processing.values()])
        most_overall = max(most_overall, sum(processing.values()))
        if all(status in ("complete", "failed") for _, status in rows):
            break
        if time.perf_counter() - started > 600:
            break
        time.sleep(0.02)
    return most_in_session, most_overall


if __name__ == "__main__":
    main()
