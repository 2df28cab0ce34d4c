"""Crowd requests benchmark: blocking clients and webhook delivery. Prints its figures.

    .venv/bin/python bench/crowd_bench.py [--clients 1000] [--block 30] [--webhooks 1000]

Uses DATABASE_URL / REDIS_URL when set (PostgreSQL / Redis pub/sub), else the embedded default
(SQLite + filesystem broker + the shared wake poller), with data under HEAT_DATA_DIR
(default /tmp/crowd-data). Starts its own server process as production serves the portal
(bench/harness.py's ``heat_server_command``: granian, one worker; PORT, default 8006) and,
for the webhook part, one Celery worker process (``--worker-args``, default a thread pool of
8 on both queues, as the ``webhooks`` worker of supervisord.conf runs deliveries).

1. Blocking: N requests are created; N clients each hold ``GET /v1/requests/{id}?block=30``
   open on ONE server process. While they all wait we sample the server's RSS growth and the
   database connections it holds; then the requests are completed one by one and each client's
   wake latency (response received - its request's completion committed) is recorded.
2. Webhooks: requests with a hook_url pointing at a local receiver are completed; we record
   completion -> delivery latency at a paced rate (p50/p95/p99) and the deliveries per second of
   one worker in a burst.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import json
import os
import resource
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HEAT_DATA_DIR", "/tmp/crowd-data")  # noqa: S108 (a benchmark's scratch data)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heatportal.settings.base")
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE", "true")
os.environ.setdefault("CROWD_RATE_LIMIT_PER_MINUTE", "0")  # benchmark clients are not throttled
os.environ.setdefault("LOG_LEVEL", "WARNING")
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
PORT = int(os.environ.get("PORT", "8006"))
WORKER_ARGS: list[str] = []  # from --worker-args

import django  # noqa: E402

django.setup()

import harness  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402

from crowd_app.models import CrowdRequest  # noqa: E402
from crowd_app.services import (  # noqa: E402
    answer_submit,
    crowd_account_create,
    crowd_api_key_create,
    cruncher_simulated,
)
from heatportal.accounts.models import User  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def threads_of(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def db_connections_of(pid: int) -> int:
    """Database connections the server process holds right now."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return cursor.fetchone()[0]
    # SQLite: open handles on the database file (each connection holds one).
    name = str(settings.DATABASES["default"]["NAME"])
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd) == name:
                count += 1
        except OSError:
            pass
    return count


def setup_account():
    owner, _ = User.objects.get_or_create(username="bench", defaults={"role": "Admin"})
    name = f"bench-{uuid.uuid4().hex[:6]}"
    account = crowd_account_create(owner=owner, name=name)
    test_key, test_value = crowd_api_key_create(account=account, test=True)
    return account, test_key, test_value


def make_requests(api_key, count: int, **params) -> list[str]:
    """Staging requests written directly (no robots queued): the benchmark answers them."""
    rows = [
        CrowdRequest(
            account_id=api_key.account_id,
            api_key=api_key,
            type="free-text",
            params={"instruction": "bench", "attachments_type": "text", "attachments": [], **params},
            staging=True,
            hook_url=params.get("hook_url", ""),
        )
        for _ in range(count)
    ]
    CrowdRequest.objects.bulk_create(rows, batch_size=500)
    return [str(row.pk) for row in rows]


def complete(request_id: str, robot) -> float:
    answer_submit(crowd_request=CrowdRequest(pk=request_id), cruncher=robot, response="done")
    return time.time()  # after commit: answer_submit is atomic, on_commit hooks have run


def _complete_all(ids: list[str], robot_pk: int, rate: float, pipe) -> None:
    from crowd_app.models import Cruncher

    connections.close_all()
    robot = Cruncher.objects.get(pk=robot_pk)
    times = {}
    started = time.monotonic()
    for number, request_id in enumerate(ids):
        if rate:
            time.sleep(max(0.0, started + number / rate - time.monotonic()))
        times[request_id] = complete(request_id, robot)
    pipe.send(times)
    pipe.close()


def complete_in_child(ids: list[str], robot_pk: int, rate: float) -> dict[str, float]:
    import multiprocessing

    connections.close_all()
    receiver, sender = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(
        target=_complete_all, args=(ids, robot_pk, rate, sender)
    )
    child.start()
    times = receiver.recv()
    child.join()
    return times


class Served:
    """The portal served as in production (bench/harness.py's ``heat_server_command``:
    granian, one worker process). ``pid`` is that worker's, the process that serves: what
    the bench samples (RSS, threads, CPU, database connections)."""

    def __init__(self, process: subprocess.Popen, pid: int):
        self.process, self.pid = process, pid

    def terminate(self) -> None:
        self.process.terminate()

    def wait(self, timeout: float | None = None) -> int:
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        self.process.kill()


def start_server() -> Served:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(harness.heat_server_command(PORT), cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            import httpx

            if httpx.get(f"http://127.0.0.1:{PORT}/login/", timeout=1).status_code == 200:
                workers = [pid for pid in harness.process_tree(process.pid) if pid != process.pid]
                return Served(process, workers[0] if workers else process.pid)
        except Exception:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not start")


async def blocked_get(request_id: str, key: str, block: int, results: dict, connected: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(
        f"GET /v1/requests/{request_id}?block={block} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"X-Heat-API-Key: {key}\r\nConnection: close\r\n\r\n".encode()
    )
    await writer.drain()
    connected.append(1)
    data = await reader.read()  # until the server closes: the whole response
    results[request_id] = (time.time(), data)
    writer.close()


def reply_status(raw: bytes) -> str | None:
    """The ``status`` of an HTTP reply's JSON body (whatever the JSON's spacing), sent with a
    Content-Length or chunked (Django's responses carry no Content-Length: uvicorn chunks them)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        chunks, rest = [], body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            chunks.append(rest[:size])
            rest = rest[size + 2 :]
        body = b"".join(chunks)
    try:
        return json.loads(body).get("status")
    except (ValueError, AttributeError):
        return None


class _BlockingRun:
    """N clients blocked on their requests on the served portal, then woken by completions: the
    replies, the completion times and the server's samples while they all wait."""

    def __init__(self, server: Served, ids: list[str], key_value: str, block: int):
        self.server, self.ids, self.key_value, self.block = server, ids, key_value, block
        self.rss_before, self.threads_before = rss_mib(server.pid), threads_of(server.pid)
        self.results: dict[str, tuple[float, bytes]] = {}
        self.completed_at: dict[str, float] = {}
        self.samples: dict[str, list[float]] = {"rss": [], "db": [], "threads": []}

    async def run(self, robot_pk: int, rate: float) -> int:
        """Connect every client, sample the waiting server, complete the requests from another
        process and read every reply. Returns how many clients were answered before that."""
        connected: list[int] = []
        tasks = [
            asyncio.create_task(blocked_get(i, self.key_value, self.block, self.results, connected))
            for i in self.ids
        ]
        while len(connected) < len(self.ids):
            await asyncio.sleep(0.05)
        await self._settle()
        await self._sample()
        early = len(self.results)
        pid = self.server.pid
        cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
        # Completions come from another process, as from a worker: the clients' event loop
        # here only reads responses.
        self.completed_at.update(await asyncio.to_thread(complete_in_child, self.ids, robot_pk, rate))
        await asyncio.gather(*tasks)
        wall = time.monotonic() - wall_before
        cpu = cpu_seconds(pid) - cpu_before
        print(f"server CPU while waking            : {cpu:.2f} s in {wall:.2f} s wall")
        return early

    async def _settle(self) -> None:
        """Every request passes through a short phase (authentication, the first read) on the
        server before it waits; wait until the server has settled into waiting."""
        settle_started = time.monotonic()
        while time.monotonic() - settle_started < 60:
            await asyncio.sleep(0.5)
            if threads_of(self.server.pid) <= self.threads_before + 8 and rss_mib(self.server.pid) > 0:
                break
        await asyncio.sleep(1)
        print(f"all {len(self.ids)} connected and settled after {time.monotonic() - settle_started:.1f} s")

    async def _sample(self) -> None:
        for _ in range(5):
            self.samples["rss"].append(rss_mib(self.server.pid))
            self.samples["db"].append(await asyncio.to_thread(db_connections_of, self.server.pid))
            self.samples["threads"].append(threads_of(self.server.pid))
            await asyncio.sleep(0.2)

    def report(self, *, early: int, asked: str) -> None:
        ids, results, completed_at, samples = self.ids, self.results, self.completed_at, self.samples
        latencies = [(results[i][0] - completed_at[i]) * 1000 for i in ids]
        complete_replies = sum(reply_status(results[i][1]) == "complete" for i in ids)
        span = completed_at[ids[-1]] - completed_at[ids[0]]
        achieved = (len(ids) - 1) / span if span > 0 else float("nan")
        print(f"== row: completions ACHIEVED at {achieved:.0f}/s ({asked}) ==")
        print(f"completions took                   : {span * 1000:.0f} ms ({achieved:.0f}/s achieved)")
        print(
            f"first/last 3 latencies (completion order): {[round(x) for x in latencies[:3]]}"
            f" {[round(x) for x in latencies[-3:]]}"
        )
        print(f"clients answered before completion : {early}")
        print(f"replies with status complete       : {complete_replies}/{len(ids)}")
        print(
            f"wake latency ms p50/p95/p99/max    : {percentile(latencies, 50):.1f}"
            f" / {percentile(latencies, 95):.1f}"
            f" / {percentile(latencies, 99):.1f} / {max(latencies):.1f}"
        )
        print(
            f"server RSS MiB before / waiting    : {self.rss_before:.1f} / {max(samples['rss']):.1f}"
            f"  (growth {max(samples['rss']) - self.rss_before:.1f} MiB)"
        )
        print(f"server threads before / waiting    : {self.threads_before} / {max(samples['threads']):.0f}")
        print(f"DB connections held while waiting  : max {max(samples['db']):.0f} (samples {samples['db']})")


def bench_blocking(clients: int, block: int, rate: float) -> None:
    # The row is labelled by the completion rate achieved (printed once known): the pacing
    # asked for is only an upper bound that the completing process may not reach.
    asked = f"asked for {rate:.0f}/s" if rate else "unpaced"
    print(
        f"\n== Blocking: {clients} clients, block={block}, one server process "
        f"({'PostgreSQL' if connection.vendor == 'postgresql' else 'SQLite'}, "
        f"{'Redis pub/sub' if settings.REDIS_URL else 'shared wake poller'}); completions {asked} =="
    )
    _account, api_key, key_value = setup_account()
    ids = make_requests(api_key, clients)
    robot = cruncher_simulated(number=1)
    server = start_server()
    try:
        import httpx

        httpx.get(f"http://127.0.0.1:{PORT}/v1/requests/{ids[0]}", headers={"X-Heat-API-Key": key_value})
        time.sleep(1)
        blocking = _BlockingRun(server, ids, key_value, block)
        started = time.monotonic()
        early = asyncio.run(blocking.run(robot.pk, rate))
        connections.close_all()
        blocking.report(early=early, asked=asked)
        print(f"total wall time                    : {time.monotonic() - started:.1f} s")
    finally:
        server.terminate()
        server.wait(timeout=20)


def _receive(port_pipe, stop_pipe) -> None:
    """The webhook receiver, in a process of its own (the benchmark's own work does not slow
    it down): records the arrival time of each request id, sends them all back at the end."""
    arrivals: dict[str, float] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            arrivals[json.loads(body)["id"]] = time.time()
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port_pipe.send(server.server_address[1])
    while True:
        if stop_pipe.poll(0.2):
            stop_pipe.recv()
            port_pipe.send(dict(arrivals))
            if stop_pipe.recv() == "exit":
                return


class Receiver:
    def __init__(self):
        import multiprocessing

        connections.close_all()
        context = multiprocessing.get_context("fork")
        self.results, port_end = context.Pipe(duplex=False)
        stop_end, self.control = context.Pipe(duplex=False)
        self.process = context.Process(target=_receive, args=(port_end, stop_end), daemon=True)
        self.process.start()
        self.url = f"http://127.0.0.1:{self.results.recv()}/hook"

    def arrivals(self, final: bool = False) -> dict[str, float]:
        self.control.send("report")
        arrivals = self.results.recv()
        self.control.send("exit" if final else "go on")
        return arrivals


def start_worker(purge: bool = True) -> subprocess.Popen:
    from heatportal.celery import app

    if purge:
        app.control.purge()
    hostname = f"bench-{uuid.uuid4().hex[:6]}@localhost"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "heatportal", "worker", *WORKER_ARGS,
         "--hostname", hostname, "--loglevel", "WARNING", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env={**os.environ},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=0.5) or []
        if any(hostname in reply for reply in replies):
            return process
    process.kill()
    raise SystemExit("worker did not start")


def wait_for_deliveries(receiver: Receiver, ids: list[str], timeout: float) -> dict[str, float]:
    deadline = time.time() + timeout
    while True:
        arrivals = receiver.arrivals()
        if all(i in arrivals for i in ids) or time.time() > deadline:
            return arrivals
        time.sleep(0.5)


class Worker:
    """The bench's one Celery worker process (``--worker-args``), stopped and started again."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None

    def start(self, purge: bool = True) -> None:
        self.process = start_worker(purge=purge)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


def bench_webhooks(count: int) -> None:
    print(
        f"\n== Webhooks: one worker ({' '.join(WORKER_ARGS)}),"
        f" broker {settings.CELERY_BROKER_URL.split(':')[0]} =="
    )
    receiver = Receiver()
    _account, api_key, _value = setup_account()
    robot = cruncher_simulated(number=1)
    worker = Worker()
    worker.start()
    try:
        _webhooks_paced(receiver, api_key, robot)
        _webhooks_burst(receiver, api_key, robot, count, worker)
        receiver.arrivals(final=True)
    finally:
        worker.stop()


def _webhooks_paced(receiver: Receiver, api_key, robot) -> None:
    """Paced: 20 completions per second, latency completion -> delivery."""
    paced = make_requests(api_key, 200, hook_url=receiver.url)
    completed_at = {}
    for request_id in paced:
        completed_at[request_id] = complete(request_id, robot)
        time.sleep(0.05)
    arrivals = wait_for_deliveries(receiver, paced, 120)
    latencies = [(arrivals[i] - completed_at[i]) * 1000 for i in paced if i in arrivals]
    print(
        f"paced 20/s: delivered {len(latencies)}/{len(paced)}; completion->delivery ms "
        f"p50/p95/p99/max {percentile(latencies, 50):.0f} / {percentile(latencies, 95):.0f} / "
        f"{percentile(latencies, 99):.0f} / {max(latencies):.0f}"
    )


def _webhooks_burst(receiver: Receiver, api_key, robot, count: int, worker: Worker) -> None:
    """Burst: complete everything with the worker stopped, then time how fast one worker
    drains the queue (nothing else running meanwhile)."""
    worker.stop()
    burst = make_requests(api_key, count, hook_url=receiver.url)
    for request_id in burst:
        complete(request_id, robot)
    worker.start(purge=False)
    assert worker.process is not None
    cpu_before = cpu_seconds(worker.process.pid)  # started: what it spends from now on is the drain's
    arrivals = wait_for_deliveries(receiver, burst, 600)
    cpu = cpu_seconds(worker.process.pid) - cpu_before
    times = sorted(arrivals[i] for i in burst if i in arrivals)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    rate = len(times) / span
    print(
        f"burst {count}: delivered {len(times)}; one worker drained them at "
        f"{rate:.0f} deliveries/s (first to last delivery, {span:.1f} s); "
        f"target >= 200/s {'OK' if rate >= 200 else 'MISSED'}"
    )
    print(
        f"worker CPU for the burst: {cpu:.2f} s, {cpu / len(times) * 1000:.2f} ms per delivery"
        f" (at most {len(times) / cpu:.0f} deliveries/s on one free core;"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--block", type=int, default=30)
    parser.add_argument("--webhooks", type=int, default=1000)
    parser.add_argument(
        "--rates",
        default="0,100",
        help="completion rates per second to run the blocking part at (0: unpaced)",
    )
    parser.add_argument("--skip-blocking", action="store_true")
    parser.add_argument("--skip-webhooks", action="store_true")
    parser.add_argument(
        "--worker-args",
        default="--queues celery,webhooks --pool threads --concurrency 8",
        help='celery worker options, e.g. "--pool threads --concurrency 8"',
    )
    args = parser.parse_args()
    WORKER_ARGS[:] = args.worker_args.split()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    if not args.skip_blocking:
        for rate in args.rates.split(","):
            bench_blocking(args.clients, args.block, float(rate))
    if not args.skip_webhooks:
        bench_webhooks(args.webhooks)


if __name__ == "__main__":
    main()
