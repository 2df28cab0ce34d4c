"""Shared pieces of the side-by-side benchmarks (bench/runner_bench.py and the ones after it).

- servers: :func:`heat_server_command` (THE command that serves HEAT; change it here and every
  bench follows, the floor included), :func:`heat_environment` and :func:`heat_prepare` (a fresh
  data folder or database, migrate, seed_demo, a bearer token), :func:`peer_server_command`,
  :func:`floor_server_command`, and :class:`Server` (a subprocess on a free port of ours, waited
  for until healthy, stopped by its own id, its CPU time read from /proc);
- load: :func:`wrk` runs ``wrk --latency`` (optionally with a Lua script) and parses what it
  achieved: requests, req/s, p50/p99, errors; :func:`cpu_per_request` wraps a run with the
  server's CPU time before and after;
- figures: :func:`interleaved` (rounds of A, B, C, A, B, C, ...), :func:`median`,
  :func:`print_table` and :func:`verdict` ("PASS target ..." / "FAIL target ...").

Everything binds to 127.0.0.1 on ports from ``BENCH_PORTS`` (default 8800-8849).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = ROOT / ".venv" / "bin"
PEER_VENV = Path(os.environ.get("PEER_VENV", "/work/peer-venv"))
_LOW, _HIGH = os.environ.get("BENCH_PORTS", "8800-8849").split("-")
PORTS = range(int(_LOW), int(_HIGH) + 1)
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/heat_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- The commands that serve each side ------------------------------------------------------


def heat_server_command(port: int, *, project: str = "heatportal") -> list[str]:
    """How HEAT is served: ONE place, so that a change of server or worker model is measured
    by every bench. ``project`` is the Django project package (``bench.floor`` for the floor,
    so that the bare view runs in exactly the same server configuration). Run from ROOT."""
    return [
        str(VENV_BIN / "granian"),
        "--interface",
        "asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--backlog",
        "4096",
        "--backpressure",
        "4096",
        "--log-level",
        "warning",
        f"{project}.asgi:application",
    ]


def floor_server_command(port: int) -> list[str]:
    return heat_server_command(port, project="bench.floor")


def peer_server_command(port: int) -> list[str]:
    """algomancy-api under uvicorn, one process, from its own virtualenv (bench/peer/setup.sh)."""
    return [
        str(PEER_VENV / "bin" / "uvicorn"),
        "app:app",
        "--app-dir",
        str(BENCH / "peer"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]


def heat_worker_command() -> list[str]:
    """The scenario worker as supervisord.conf runs it, with one pool process."""
    return [
        str(VENV_BIN / "celery"),
        "-A",
        "heatportal",
        "worker",
        "--queues",
        "celery",
        "--pool",
        "prefork",
        "--concurrency",
        "1",
        "--loglevel",
        "INFO",
        "--hostname",
        f"bench-{os.getpid()}@localhost",
    ]


# --- HEAT's data ----------------------------------------------------------------------------


def heat_environment(backend: str, data_dir: Path) -> dict[str, str]:
    """The environment of every HEAT process of a bench: ``embedded`` (SQLite in the data
    folder, filesystem broker, file cache) or ``pg`` (PostgreSQL ``heat_bench`` + Redis db 12).
    Set explicitly, so that neither the shell nor a .env file changes what is measured."""
    if backend not in ("embedded", "pg"):
        raise ValueError(f"unknown backend {backend!r}")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "heatportal.settings.base",
            "HEAT_DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{data_dir / 'db.sqlite3'}" if backend == "embedded" else PG_URL,
            "REDIS_URL": "" if backend == "embedded" else REDIS_URL,
            "S3_BUCKET": "",
            "DJANGO_DEBUG": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} is missing (apt-get install postgresql-client redis-tools)")
    return path


def _reset_pg_and_redis() -> None:
    """Drop and create the bench database (ours: heat_bench*), flush our Redis db (12)."""
    name = PG_URL.rsplit("/", 1)[1]
    if not name.startswith("heat_bench"):
        raise SystemExit(f"refusing to reset {name!r}: bench databases are named heat_bench*")
    admin = PG_URL.rsplit("/", 1)[0] + "/postgres"
    for statement in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run([_tool("psql"), admin, "-q", "-c", statement], check=True, capture_output=True)
    subprocess.run([_tool("redis-cli"), "-u", REDIS_URL, "FLUSHDB"], check=True, capture_output=True)


def heat_prepare(backend: str) -> tuple[Path, dict[str, str], str]:
    """A fresh HEAT installation: data folder, (database,) migrate, seed_demo (session ``main``
    with ``Master data``, the demo users), and an offline bearer token of ``admin``.
    Returns (data folder, environment, token)."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"heat-bench-{backend}-"))
    env = heat_environment(backend, data_dir)
    if backend == "pg":
        _reset_pg_and_redis()
    python = str(VENV_BIN / "python")
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    token = subprocess.run(
        [python, "manage.py", "issue_token", "admin", "--offline", "--name", "bench"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return data_dir, env, token


def heat_manage(env: dict[str, str], *args: str) -> str:
    """``manage.py <args>`` in the bench's environment; returns its standard output."""
    completed = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return completed.stdout


# --- Processes ------------------------------------------------------------------------------


def free_port(taken: Iterable[int] = ()) -> int:
    """A port of ours (BENCH_PORTS) that nothing listens on."""
    taken = set(taken)
    for port in PORTS:
        if port in taken:
            continue
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants (a server may fork workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its live descendants, plus what its ended children used
    (cutime + cstime), in seconds."""
    total = 0
    for index, member in enumerate(process_tree(pid)):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
        total += int(fields[11]) + int(fields[12])
        if index == 0:
            total += int(fields[13]) + int(fields[14])
    return total / CLOCK_TICKS


@dataclass
class Server:
    """A subprocess serving HTTP on 127.0.0.1:port, or a background worker (no health URL)."""

    name: str
    command: list[str]
    env: dict[str, str] | None = None
    cwd: Path = ROOT
    port: int | None = None
    health: str | None = "/health"  # a path answering 200 when up; None: no HTTP
    log_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def start(self, timeout: float = 60) -> Server:
        log = open(self.log_path, "ab")  # noqa: SIM115 (the child keeps it)
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if self.health is None:
            return self
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited ({self.process.returncode}); see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + self.health, timeout=2).status_code == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{self.name} did not answer {self.health} in {timeout:g} s; see {self.log_path}")

    def cpu_seconds(self) -> float:
        assert self.process is not None
        return cpu_seconds(self.process.pid)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM to its own process group (a prefork worker's children too), then SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


# --- Load -----------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int = 0  # "Non-2xx or 3xx responses"
    socket_errors: int = 0  # connect + read + write + timeout
    bytes_read: float = 0.0  # response bytes, headers included
    output: str = ""  # wrk's stdout (a Lua script's done() prints here)
    cpu_ms_per_request: float | None = None  # filled by cpu_per_request

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors

    @property
    def bytes_per_response(self) -> float:
        return self.bytes_read / self.requests if self.requests else float("nan")

    @property
    def label(self) -> str:
        """What was achieved, for a table row."""
        text = f"{self.rps:,.0f} req/s ({self.requests:,} in {self.seconds:.1f} s), p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms"  # noqa: E501
        return text + (f", {self.errors} errors" if self.errors else "")


_SIZES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"wrk latency {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def parse_wrk(output: str) -> WrkResult:
    requests = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if not requests:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, flags=re.MULTILINE))
    socket_errors = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    read = re.search(r"requests in [\d.]+\w+, ([\d.]+)(B|KB|MB|GB) read", output)
    return WrkResult(
        requests=int(requests[1]),
        seconds=_milliseconds(requests[2] + requests[3]) / 1000,
        rps=float(rps[1]) if rps else 0.0,
        p50_ms=_milliseconds(percentiles["50"]) if "50" in percentiles else float("nan"),
        p99_ms=_milliseconds(percentiles["99"]) if "99" in percentiles else float("nan"),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(value) for value in socket_errors.groups()) if socket_errors else 0,
        bytes_read=float(read[1]) * _SIZES[read[2]] if read else 0.0,
        output=output,
    )


def wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    threads: int = 2,
    script: Path | None = None,
    script_args: Sequence[str] = (),
    timeout: float = 10,
) -> WrkResult:
    """``wrk -t2 -cN -d<seconds>s --latency`` (threads ≤ connections, as wrk requires)."""
    command = [
        _tool("wrk"),
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--latency",
        f"--timeout={timeout:g}s",
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout + 30)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr or completed.stdout}")
    return parse_wrk(completed.stdout)


def cpu_per_request(server: Server, run: Callable[[], WrkResult]) -> WrkResult:
    """Run the load and record the server's CPU time (process tree, /proc) per request."""
    before = server.cpu_seconds()
    result = run()
    used = server.cpu_seconds() - before
    result.cpu_ms_per_request = used * 1000 / result.requests if result.requests else float("nan")
    return result


# --- Figures --------------------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    values = [value for value in values if value == value]  # drop NaN
    return statistics.median(values) if values else float("nan")


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


def interleaved(
    rounds: int, subjects: Sequence[str], measure: Callable[[str, int], object]
) -> dict[str, list]:
    """``measure(subject, round)`` for round 1..n, each round visiting every subject in turn
    (A, B, C, A, B, C, ...), so that the machine's drift hits all alike. Results by subject."""
    results: dict[str, list] = {subject: [] for subject in subjects}
    for index in range(1, rounds + 1):
        for subject in subjects:
            results[subject].append(measure(subject, index))
    return results


def print_table(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A plain-text table; each row should say what was achieved (not what was asked for)."""
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(name)), *(len(row[index]) for row in rows)) for index, name in enumerate(header)]
    print(f"\n{title}")
    print("  " + "  ".join(str(name).ljust(width) for name, width in zip(header, widths, strict=True)))
    print("  " + "  ".join("-" * width for width in widths))
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def verdict(ok: bool, target: str, achieved: str) -> bool:
    print(f"{'PASS' if ok else 'FAIL'} target {target}: {achieved}")
    return ok


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def python_version(python: Path | str) -> str:
    return subprocess.run(
        [str(python), "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True
    ).stdout.strip()


def machine_line() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"


def run_backends(run_backend: Callable[[str], dict], backend: str, started: float) -> int:
    """Run the bench on ``backend`` ("embedded", "pg" or "both"), then print each backend's
    count of targets met and the total time."""
    backends = ("embedded", "pg") if backend == "both" else (backend,)
    summaries = [run_backend(name) for name in backends]
    print()
    for summary in summaries:
        print(f"[{summary['backend']}] {summary['passed']}/{summary['targets']} targets met")
    print(f"total time {time.monotonic() - started:.0f} s")
    return 0
