"""Where one API request's CPU goes, without a server: the API lane's WSGI handler called in
process, N times, for one endpoint (issue 11's profiling tool; bench/api_bench.py measures the
same endpoints through the real server).

    .venv/bin/python bench/profile_request.py --data-dir DIR --path /api/v2/health
    .venv/bin/python bench/profile_request.py --data-dir DIR --path /api/v1/public/sites \
        --header "X-API-Key: ..." --profile        # plus a cProfile of the calls

DIR is an installation made by bench/api_bench.py (``--keep``) or by hand (migrate, seed_demo);
``--floor`` calls bench/floor's bare view instead, with the floor's settings. Prints the CPU
time (thread time) per call, median of ``--rounds`` rounds of ``--calls`` calls.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def environ_for(method: str, path: str, headers: list[str], body: bytes) -> dict:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path.split("?", 1)[0],
        "QUERY_STRING": path.split("?", 1)[1] if "?" in path else "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json" if body else "",
    }
    for header in headers:
        name, value = header.split(":", 1)
        environ["HTTP_" + name.strip().upper().replace("-", "_")] = value.strip()
    return environ


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--database-url", default="", help="default: the data folder's SQLite")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--path", default="/api/v2/health")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--body", default="")
    parser.add_argument("--floor", action="store_true")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--gc-threshold", type=int, default=0, help="gc.set_threshold(N) first")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    handler = django_handler(args)
    body = args.body.encode()
    statuses: set[str] = set()

    def start_response(status, headers, exc_info=None):
        statuses.add(status)

    def call() -> None:
        response = handler(environ_for(args.method, args.path, args.header, body), start_response)
        for _ in response:
            pass
        response.close()

    if args.gc_threshold:
        import gc

        gc.set_threshold(args.gc_threshold)
    for _ in range(200):  # warm: connections, caches
        call()
    per_call = cpu_per_call(call, rounds=args.rounds, calls=args.calls)
    print(
        f"{args.method} {args.path}: {statistics.median(per_call):.0f} us CPU per call "
        f"(rounds {', '.join(f'{v:.0f}' for v in per_call)}); statuses {sorted(statuses)}"
    )
    if args.profile:
        print(profiled(call, calls=args.calls))


def django_handler(args: argparse.Namespace):
    """Django set up for HEAT (its data folder and URLs) or the floor, and the WSGI handler
    of the API lane (the floor's: Django's own)."""
    if args.floor:
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.floor.settings"
    else:
        os.environ["DJANGO_SETTINGS_MODULE"] = "heatportal.settings.base"
        os.environ["HEAT_DATA_DIR"] = str(args.data_dir)
        os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{args.data_dir / 'db.sqlite3'}"
        os.environ["REDIS_URL"] = args.redis_url
        os.environ["DJANGO_DEBUG"] = "false"
        os.environ.update({"SITES_API_RATE_LIMIT": "1000000000", "CROWD_RATE_LIMIT_PER_MINUTE": "1000000000"})
    import django

    django.setup(set_prefix=False)
    logging.disable(logging.WARNING)  # a 404 or 401 per call would flood the output
    from django.core.handlers.wsgi import WSGIHandler

    if args.floor:
        return WSGIHandler()
    from heatportal.lanes import ApiWSGIHandler

    return ApiWSGIHandler()


def cpu_per_call(call, *, rounds: int, calls: int) -> list[float]:
    """Thread CPU per call, microseconds, of each round of ``calls`` calls."""
    per_call = []
    for _ in range(rounds):
        started = time.thread_time()
        for _ in range(calls):
            call()
        per_call.append((time.thread_time() - started) * 1e6 / calls)
    return per_call


def profiled(call, *, calls: int) -> str:
    """cProfile's 45 costliest functions (cumulative) over ``calls`` calls."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
    return out.getvalue()


if __name__ == "__main__":
    main()
