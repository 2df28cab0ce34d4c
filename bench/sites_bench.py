"""GET /sites throughput for an access group of 1,000 sites, against a bare Django view.

One access group with N sites (default 1,000), each with the document's schedules on all its
asset types (two entries per asset/type, in the future) and fresh telemetry. One uvicorn
process serves the portal's ASGI application plus a bare Django view that returns the very
same body as pre-rendered bytes (``/bench/bare-sites``), so both run on the same server, in
the same run, through the same middleware. Client threads with keep-alive connections
alternate between the two endpoints in rounds, and the script prints requests per second of
each and their ratio (the target: GET /sites at least 40% of the bare view), plus the number
of database queries of one GET /sites with a cold and a warm fragment cache.

    .venv/bin/python bench/sites_bench.py [--sites 1000] [--seconds 5] [--rounds 3] [--clients 4]

Uses DATABASE_URL / REDIS_URL like the portal (SQLite and the file cache when unset). The bench
creates its own access group and deletes it afterwards.
"""

from __future__ import annotations

import argparse
import http.client
import importlib
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heatportal.settings.base")
os.environ["SITES_API_RATE_LIMIT"] = str(10**9)  # measure the endpoint, not the limiter


def __getattr__(name):
    """The server's URLconf (``ROOT_URLCONF = "bench.sites_bench"``): the portal's URLs plus
    the bare view. Lazy, because this module is imported before Django is set up."""
    if name != "urlpatterns":
        raise AttributeError(name)
    from django.urls import path

    from heatportal.urls import urlpatterns

    return [path("bench/bare-sites", bare_sites), *urlpatterns]


BARE_BODY = b""


def bare_sites(request):
    """The baseline: no authentication, no queries, just the pre-rendered bytes."""
    from django.http import HttpResponse

    return HttpResponse(BARE_BODY, content_type="application/json")


# --- Server --------------------------------------------------------------------------------------


def serve(port: int, group_id: int) -> None:
    import django

    django.setup()
    import uvicorn
    from django.conf import settings
    from django.core.asgi import get_asgi_application

    from sites_app.api.views import site_list_body

    settings.ROOT_URLCONF = "bench.sites_bench"
    # The URLconf imports this file again as bench.sites_bench: set the body there.
    importlib.import_module("bench.sites_bench").BARE_BODY = site_list_body(access_group_id=group_id)
    uvicorn.run(
        get_asgi_application(),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


# --- Data ----------------------------------------------------------------------------------------


def schedules(day: str) -> list[dict]:
    def entries(value_a, value_b, hours=("08", "10", "12")):
        start, middle, end = hours
        return [
            {"startAt": f"{day}T{start}:00:00Z", "endAt": f"{day}T{middle}:00:00Z", "value": value_a},
            {"startAt": f"{day}T{middle}:00:00Z", "endAt": f"{day}T{end}:00:00Z", "value": value_b},
        ]

    return [
        {"asset": "grid", "type": "upperLimitkW", "entries": entries(50, 120)},
        {"asset": "grid", "type": "lowerLimitkW", "entries": entries(-20, -80)},
        {"asset": "grid", "type": "activePowerkW", "entries": entries(30, 45)},
        {"asset": "bess", "type": "activePowerkW", "entries": entries(-50, 40, ("08", "09", "10"))},
        {"asset": "bess", "type": "optimalSocPcnt", "entries": entries(80, 60, ("10", "11", "12"))},
        {"asset": "solar", "type": "solarCurtailmentPcnt", "entries": entries(10, 25)},
    ]


def create_group(count: int):
    from django.db import transaction
    from django.utils import timezone

    from sites_app import services
    from sites_app.api.outputs import format_time
    from sites_app.models import AccessGroup

    group = AccessGroup.objects.create(name=f"bench-{int(time.time())}")
    _key, key_value = services.api_key_create(access_group=group, name="bench")
    now = format_time(timezone.now())
    started = time.monotonic()
    for index in range(count):
        with transaction.atomic():
            site, _token = services.site_create(access_group=group, name=f"Bench site {index:04d}")
            services.schedule_batch_apply(site=site, commands=schedules("2099-06-01"), sent_by="bench")
            services.telemetry_record(
                site=site, payload={"reportedAt": now, "assets": {"grid": {"activePowerkW": index % 500}}}
            )
    print(f"created {count} sites with {count * 12} schedule entries in {time.monotonic() - started:.1f} s")
    return group, key_value


def delete_group(group) -> None:
    from sites_app.models import Site

    Site.objects.filter(access_group=group).delete()
    group.delete()


def count_queries(key_value: str) -> tuple[int, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from sites_app.api.outputs import fragment_cache

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key_value}", HTTP_HOST="127.0.0.1")
    client.get("/api/v1/public/sites")
    fragment_cache.clear()
    with CaptureQueriesContext(connection) as cold:
        client.get("/api/v1/public/sites")
    with CaptureQueriesContext(connection) as warm:
        client.get("/api/v1/public/sites")
    return len(cold), len(warm)


# --- Load ----------------------------------------------------------------------------------------


def fetch(connection: http.client.HTTPConnection, path: str, headers: dict) -> bytes:
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"{path}: {response.status} {body[:200]!r}")
    return body


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    port: int, path: str, headers: dict, *, seconds: float, clients: int, pid: int
) -> tuple[float, float, float]:
    """Requests per second, mean latency (ms) of ``clients`` keep-alive clients, and the
    server's CPU time per request (ms): less sensitive than throughput to other load."""
    done = [0] * clients
    latency = [0.0] * clients
    deadline = time.monotonic() + seconds

    def run(slot: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < deadline:
            started = time.monotonic()
            fetch(connection, path, headers)
            latency[slot] += time.monotonic() - started
            done[slot] += 1
        connection.close()

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(clients)]
    cpu_before = cpu_seconds(pid)
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(pid) - cpu_before
    total = max(sum(done), 1)
    return total / elapsed, 1000 * sum(latency) / total, 1000 * cpu / total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TelemetryChurn:
    """Gateways reporting in the background: ``rate`` telemetry reports per second, each
    renewing one random site's revision (written straight to the database, as the gateway
    API's service does)."""

    def __init__(self, group, *, rate: float):
        from sites_app.models import Site

        self.sites = list(Site.objects.filter(access_group=group))
        self.rate = rate
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.reports = 0

    def run(self) -> None:
        import random

        from django.db import connection
        from django.utils import timezone

        from sites_app import services
        from sites_app.api.outputs import format_time

        try:
            while not self.stop.is_set():
                site = random.choice(self.sites)
                payload = {
                    "reportedAt": format_time(timezone.now()),
                    "assets": {"grid": {"activePowerkW": random.randint(-500, 500)}},
                }
                services.telemetry_record(site=site, payload=payload)
                self.reports += 1
                self.stop.wait(1 / self.rate)
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.thread.join()


def compare(label: str, port: int, auth: dict, args, *, pid: int) -> None:
    """Alternate rounds of the bare view and GET /sites; print each round, the medians and the
    verdict against the target."""
    results: dict[str, list[tuple[float, float, float]]] = {"api": [], "bare": []}
    print(f"-- {label}")
    for round_ in range(1, args.rounds + 1):
        bare = measure(port, "/bench/bare-sites", {}, seconds=args.seconds, clients=args.clients, pid=pid)
        api = measure(port, "/api/v1/public/sites", auth, seconds=args.seconds, clients=args.clients, pid=pid)
        results["bare"].append(bare)
        results["api"].append(api)
        print(
            f"round {round_}: bare view {bare[0]:7.1f} req/s, {bare[2]:5.2f} ms CPU/req | "
            f"GET /sites {api[0]:7.1f} req/s, {api[2]:5.2f} ms CPU/req | ratio {api[0] / bare[0]:6.1%}"
        )
    api_rate = statistics.median(result[0] for result in results["api"])
    bare_rate = statistics.median(result[0] for result in results["bare"])
    api_cpu = statistics.median(result[2] for result in results["api"])
    bare_cpu = statistics.median(result[2] for result in results["bare"])
    ratio = api_rate / bare_rate
    print(
        f"{label}: median of {args.rounds} interleaved rounds, {args.clients} clients: bare view "
        f"{bare_rate:.1f} req/s, GET /sites {api_rate:.1f} req/s, ratio {ratio:.1%} (target >= 40%): "
        f"{'MET' if ratio >= 0.40 else 'NOT MET'}"
    )
    print(
        f"{label}: server CPU per request (medians): bare view {bare_cpu:.2f} ms, "
        f"GET /sites {api_cpu:.2f} ms (bare/API {bare_cpu / api_cpu:.1%})"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--telemetry-rate", type=float, default=20, help="reports/s in the second part (0: skip it)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help="the bench server's port (default: a free one)")
    parser.add_argument("--group-id", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def set_up_django() -> None:
    """Set Django up, migrate the database, and print which database and cache the run uses."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    database = settings.DATABASES["default"]
    engine = database["ENGINE"].rsplit(".", 1)[-1]
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(f"database: {engine} {database['NAME']}; cache: {cache}")


def start_server(port: int, group_id: int) -> subprocess.Popen:
    """This script in ``--serve`` mode on ``port``."""
    return subprocess.Popen(
        [sys.executable, __file__, "--serve", "--port", str(port), "--group-id", str(group_id)],
        cwd=ROOT,
    )


def wait_for_server(server: subprocess.Popen, port: int) -> None:
    """Until the server accepts connections (at most a minute)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the bench server did not start") from None
            time.sleep(0.2)


def check_bodies(port: int, auth: dict, *, sites: int) -> None:
    """GET /sites and the bare view serve the same bytes, naming every site."""
    check = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    api_body = fetch(check, "/api/v1/public/sites", auth)
    bare_body = fetch(check, "/bench/bare-sites", {})
    check.close()
    assert api_body == bare_body, "the bare view must serve the same bytes"
    assert len(json.loads(api_body)["sites"]) == sites
    print(f"response: {len(api_body) / 1024:.0f} KiB, {sites} sites")


def run(group, key_value: str, args, *, port: int, pid: int) -> None:
    """Check the bodies, warm both paths, then compare them without and with telemetry."""
    auth = {"Authorization": f"Bearer {key_value}"}
    check_bodies(port, auth, sites=args.sites)
    # Warm both paths, then alternate rounds so that load from elsewhere hits both alike.
    measure(port, "/api/v1/public/sites", auth, seconds=1, clients=args.clients, pid=pid)
    measure(port, "/bench/bare-sites", {}, seconds=1, clients=args.clients, pid=pid)
    compare("no writes", port, auth, args, pid=pid)
    if args.telemetry_rate > 0:
        with TelemetryChurn(group, rate=args.telemetry_rate):
            compare(f"telemetry {args.telemetry_rate:g}/s", port, auth, args, pid=pid)


def main() -> None:
    args = parse_args()
    if args.serve:
        serve(args.port, args.group_id)
        return
    set_up_django()
    group, key_value = create_group(args.sites)
    server = None
    try:
        cold, warm = count_queries(key_value)
        print(f"queries per GET /sites: {cold} with an empty fragment cache, {warm} with a warm one")
        port = args.port or free_port()
        server = start_server(port, group.pk)
        wait_for_server(server, port)
        run(group, key_value, args, port=port, pid=server.pid)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        delete_group(group)


if __name__ == "__main__":
    main()
