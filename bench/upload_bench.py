"""Benchmark: a large raw-body upload to a running HEAT Portal server.

    .venv/bin/python bench/upload_bench.py [--size-mib 1024]

Measures ``POST /api/v2/node_instances/{id}/outputs`` (raw body, ``Authorization: Bearer``)
served by uvicorn, against the issue's targets:

- throughput >= 70% of the disk's sequential write speed (write + fsync) measured in the same
  run, on the filesystem of the data folder;
- the server process's peak memory growth during the upload <= 64 MiB.

A benchmark, not a test: it prints its figures and exits 0 whether or not a target is met.
It exits non-zero only if the set-up or the upload itself failed (no 201, or a size/sha256
that does not match what was sent). See bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent
THROUGHPUT_TARGET = 0.70  # of the disk's sequential write speed (write + fsync)
MEMORY_TARGET_MIB = 64.0

SETUP_CODE = r"""
import json, secrets
from heatportal.accounts.services import user_create
from sessions_app.models import DataSource, NodeInstance, NodeTemplate, Project, SessionTemplate
from sessions_app.services import session_create

suffix = secrets.token_hex(4)
user = user_create(username=f"bench-{suffix}", role="Instructor")
raw, _ = DataSource.objects.get_or_create(name="raw")
template = SessionTemplate.objects.create(name=f"Upload bench {suffix}")
NodeTemplate.objects.create(
    session_template=template, key="input", type="InputNode", label="Input",
    configuration={"dataSourceName": raw.name}, position=0,
)
project = Project.objects.create(
    title=f"Upload bench {suffix}", owner=user, default_session_template=template
)
session = session_create(user=user, project=project, session_template=template, name="upload bench")
node = NodeInstance.objects.get(session=session, type="InputNode")
print("BENCH-SETUP " + json.dumps({"username": user.username, "node_instance_id": node.pk}))
"""


# --- /proc helpers ----------------------------------------------------------------------------


def proc_status_kib(pid: int, key: str) -> int:
    """A ``kB`` line of /proc/<pid>/status (VmRSS, VmHWM, ...); 0 if the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn without --workers has none; --reload/--workers do)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return pids


def tree_rss_kib(pid: int) -> int:
    return sum(proc_status_kib(p, "VmRSS") for p in process_tree(pid))


def tree_hwm_kib(pid: int) -> int:
    return sum(proc_status_kib(p, "VmHWM") for p in process_tree(pid))


def reset_hwm(pid: int) -> bool:
    """Reset VmHWM to the current RSS (``echo 5 > clear_refs``, Linux >= 4.0), if allowed."""
    ok = True
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/clear_refs", "w") as clear_refs:
                clear_refs.write("5")
        except OSError:
            ok = False
    return ok


def proc_io(pid: int) -> dict[str, int]:
    """/proc/<pid>/io of the tree, summed: wchar (bytes given to write()), write_bytes (bytes
    dirtied in the page cache / sent to the block layer), cancelled_write_bytes."""
    totals: dict[str, int] = {}
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/io") as io:
                for line in io:
                    key, _, value = line.partition(":")
                    totals[key] = totals.get(key, 0) + int(value)
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            pass
    return totals


def proc_cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def open_file_bytes(pid: int, spool_dir: str, data_dir: str) -> tuple[int, int]:
    """Bytes in the regular files the server has open: (under the temp dir but not the data
    folder: Django's request-body spool files; under the data folder: the stored upload)."""
    spool = stored = 0
    for p in process_tree(pid):
        try:
            fds = os.listdir(f"/proc/{p}/fd")
        except (FileNotFoundError, PermissionError):
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{p}/fd/{fd}")
                if target.startswith(data_dir):
                    stored += os.stat(f"/proc/{p}/fd/{fd}").st_size
                elif target.startswith(spool_dir):
                    spool += os.stat(f"/proc/{p}/fd/{fd}").st_size
            except OSError:
                continue
    return spool, stored


@dataclass
class Sampler:
    """Polls the server tree's RSS (and its open temp files' size) in a thread."""

    pid: int
    interval: float
    spool_dir: str
    data_dir: str
    peak_rss_kib: int = 0
    peak_spool_bytes: int = 0
    peak_stored_bytes: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_rss_kib = max(self.peak_rss_kib, tree_rss_kib(self.pid))
            if self.samples % 5 == 0:
                spool, stored = open_file_bytes(self.pid, self.spool_dir, self.data_dir)
                self.peak_spool_bytes = max(self.peak_spool_bytes, spool)
                self.peak_stored_bytes = max(self.peak_stored_bytes, stored)
            self.samples += 1
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.peak_rss_kib = max(self.peak_rss_kib, tree_rss_kib(self.pid))


# --- Set-up -----------------------------------------------------------------------------------


def run(cmd: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(
            f"set-up command failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def bench_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HEAT_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="heatportal.settings.base",
        # Set explicitly (not just removed) so that a .env file cannot switch them on.
        DATABASE_URL=database_url or f"sqlite:///{data_dir / 'db.sqlite3'}",
        REDIS_URL="",
        S3_BUCKET="",
        DJANGO_DEBUG="false",
        PYTHONUNBUFFERED="1",
    )
    env.pop("CELERY_BROKER_URL", None)
    return env


def set_up(env: dict[str, str]) -> tuple[int, str]:
    python = sys.executable
    run([python, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    out = run([python, "manage.py", "shell", "-c", SETUP_CODE], env)
    line = next(line for line in out.splitlines() if line.startswith("BENCH-SETUP "))
    data = json.loads(line.removeprefix("BENCH-SETUP "))
    token = run([python, "manage.py", "issue_token", data["username"]], env).strip().splitlines()[-1]
    return data["node_instance_id"], token


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(port: int, app: str, app_dir: Path | None = None) -> list[str]:
    """granian, as supervisord.conf serves the portal (bench/harness.py's command)."""
    executable = Path(sys.executable).parent / "granian"
    base = [str(executable)] if executable.exists() else [sys.executable, "-m", "granian"]
    return base + [
        "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--loop", "uvloop", "--log-level", "warning",
    ] + (["--working-dir", str(app_dir)] if app_dir else []) + [app]  # fmt: skip


def start_server(
    env: dict[str, str], log_path: Path, app: str, app_dir: Path | None = None
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(log_path, "wb")  # noqa: SIM115 (kept open for the server's life)
    server = subprocess.Popen(
        server_command(port, app, app_dir),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(
                f"uvicorn exited with {server.returncode}:\n{log_path.read_text(errors='replace')}"
            )
        try:
            if httpx.get(f"{base_url}/api/v2/health", timeout=2).status_code == 200:
                return server, base_url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit(
        f"uvicorn did not answer /api/v2/health within 60 s:\n{log_path.read_text(errors='replace')}"
    )


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


async def sink_application(scope, receive, send):
    """An ASGI app that reads the body and throws it away: the ceiling of what any server code
    behind uvicorn can reach with this client on this machine (HTTP over loopback, no storage)."""
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = json.dumps({"status": "ok", "size": size}).encode()
    status = 201 if scope["method"] == "POST" else 200
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})


# --- Measurements -----------------------------------------------------------------------------


def disk_write(folder: Path, size: int, block: bytes, *, fsync: bool, sync_after: bool = True) -> float:
    """Seconds to write ``size`` bytes in ``len(block)`` blocks to a new file in ``folder``
    (including a final fsync when asked). The file is synced (untimed, unless ``sync_after`` is
    false) and deleted after."""
    path = folder / f"disk-bench-{os.getpid()}.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(block)
        started = time.perf_counter()
        written = 0
        while written < size:
            written += os.write(fd, view[: min(len(block), size - written)])
        if fsync:
            os.fsync(fd)
        elapsed = time.perf_counter() - started
        if not fsync and sync_after:
            os.fsync(fd)  # leave no dirty pages behind to slow what comes next
    finally:
        os.close(fd)
        path.unlink()
    return elapsed


@dataclass
class Upload:
    status: int
    body: dict | str
    sent: int
    seconds: float
    send_seconds: float  # until the client had handed the last byte to the socket


def upload(base_url: str, node_id: int, token: str, size: int, block: bytes) -> Upload:
    sent = 0
    done_sending = 0.0

    def body():
        nonlocal sent, done_sending
        while sent < size:
            chunk = block if size - sent >= len(block) else block[: size - sent]
            sent += len(chunk)
            yield chunk
        done_sending = time.perf_counter()

    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/octet-stream",
        "Content-Length": str(size),
    }
    with httpx.Client(timeout=httpx.Timeout(600.0)) as client:
        started = time.perf_counter()
        response = client.post(
            f"{base_url}/api/v2/node_instances/{node_id}/outputs", content=body(), headers=headers
        )
        finished = time.perf_counter()
    try:
        data: dict | str = response.json()
    except ValueError:
        data = response.text[:500]
    return Upload(response.status_code, data, sent, finished - started, (done_sending or finished) - started)


def sha256_of_repeated(block: bytes, size: int) -> str:
    digest = hashlib.sha256()
    remaining = size
    while remaining > 0:
        piece = block if remaining >= len(block) else block[:remaining]
        digest.update(piece)
        remaining -= len(piece)
    return digest.hexdigest()


def fsync_path(path: Path) -> float:
    started = time.perf_counter()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return time.perf_counter() - started


def storage_fsyncs() -> bool | None:
    """Whether Django's FileSystemStorage._save fsyncs what it writes (5.2: it does not)."""
    import inspect

    try:
        from django.core.files.storage import FileSystemStorage

        return "fsync" in inspect.getsource(FileSystemStorage._save)
    except Exception:
        return None


# --- Main -------------------------------------------------------------------------------------


@dataclass
class Disk:
    fsync_runs: list[float]  # seconds per run, write + fsync
    nofsync_seconds: float

    def fsync_speed(self, size: int) -> float:
        return size / MIB / statistics.median(self.fsync_runs)


@dataclass
class Measured:
    result: Upload
    expected_sha: str
    baseline_kib: int
    peak_rss_kib: int
    hwm_after_kib: int | None  # None when VmHWM could not be reset before the upload
    samples: int
    io: dict[str, int]
    server_cpu: float
    client_cpu: float
    peak_spool_bytes: int
    peak_stored_bytes: int
    spool_dir: str
    fsync_after: float | None = None  # seconds to fsync the stored file after the 201

    def ok(self, size: int) -> bool:
        body = self.result.body
        return (
            self.result.status == 201
            and isinstance(body, dict)
            and body.get("size") == self.result.sent == size
            and body.get("sha256") == self.expected_sha
        )

    def growth_mib(self) -> float:
        peaks = [self.peak_rss_kib] + ([self.hwm_after_kib] if self.hwm_after_kib is not None else [])
        return (max(peaks) - self.baseline_kib) / 1024


def measure_disk(folder: Path, size: int, block: bytes, runs: int, prewarm: bool) -> Disk:
    """The disk, on the data folder's filesystem: write + fsync (``runs`` times; the median counts),
    then write only. First, if ``prewarm``, write and drop as many bytes as the upload will put
    in the page cache (body spool + stored file), untimed: on a VM, guest memory that has not
    been touched for a while is much slower to fill, and whichever measurement came first would
    pay for it."""
    if prewarm:
        disk_write(folder, 2 * size, block, fsync=False, sync_after=False)
    os.sync()
    fsync_runs = [disk_write(folder, size, block, fsync=True) for _ in range(max(1, runs))]
    return Disk(fsync_runs, disk_write(folder, size, block, fsync=False))


def measure_upload(
    server: subprocess.Popen, base_url: str, node_id: int, token: str, size: int, block: bytes,
    data_dir: Path, sample_ms: float,
) -> Measured:  # fmt: skip
    expected_sha = sha256_of_repeated(block, size)
    os.sync()  # start with no dirty pages of ours pending
    spool_dir = os.path.realpath(tempfile.gettempdir()) + "/"  # where Django's body spool goes
    baseline_kib = tree_rss_kib(server.pid)
    hwm_reset = reset_hwm(server.pid)
    io_before, cpu_before = proc_io(server.pid), proc_cpu_seconds(server.pid)
    sampler = Sampler(server.pid, sample_ms / 1000, spool_dir, str(data_dir) + "/")
    client_before = os.times()
    sampler.start()
    try:
        result = upload(base_url, node_id, token, size, block)
    finally:
        sampler.stop()
    client_after = os.times()
    io_after = proc_io(server.pid)
    measured = Measured(
        result=result,
        expected_sha=expected_sha,
        baseline_kib=baseline_kib,
        peak_rss_kib=sampler.peak_rss_kib,
        hwm_after_kib=tree_hwm_kib(server.pid) if hwm_reset else None,
        samples=sampler.samples,
        io={key: io_after.get(key, 0) - io_before.get(key, 0) for key in io_after},
        server_cpu=proc_cpu_seconds(server.pid) - cpu_before,
        client_cpu=(client_after.user + client_after.system) - (client_before.user + client_before.system),
        peak_spool_bytes=sampler.peak_spool_bytes,
        peak_stored_bytes=sampler.peak_stored_bytes,
        spool_dir=spool_dir,
    )
    body = result.body
    if measured.ok(size) and isinstance(body, dict):
        stored = data_dir / "media" / body["dataPath"]
        if stored.exists():
            measured.fsync_after = fsync_path(stored)
    return measured


def measure_ceiling(env: dict[str, str], data_dir: Path, size: int, block: bytes) -> float | None:
    """MiB/s of the same upload to ``sink_application`` (uvicorn, body read and thrown away)."""
    sink, sink_url = start_server(env, data_dir / "sink.log", "upload_bench:sink_application", ROOT / "bench")
    try:
        result = upload(sink_url, 0, "none", size, block)
    except httpx.HTTPError as error:
        print(f"(the ceiling upload failed: {error!r})")
        return None
    finally:
        stop_server(sink)
    if result.status == 201 and isinstance(result.body, dict) and result.body.get("size") == size:
        return size / MIB / result.seconds
    return None


Row = tuple[str, str]


def report(args: argparse.Namespace, size: int, disk: Disk, m: Measured, ceiling: float | None) -> None:
    disk_fsync = disk.fsync_speed(size)
    throughput = size / MIB / m.result.seconds
    fsyncs = storage_fsyncs()
    rows = speed_rows(args, size, disk, m, ceiling)
    rows += server_rows(args, size, m, fsyncs)
    print_rows(rows)
    print_verdicts(throughput / disk_fsync, m.growth_mib(), fsyncs)


def speed_rows(
    args: argparse.Namespace, size: int, disk: Disk, m: Measured, ceiling: float | None
) -> list[Row]:
    """The disk's speeds, the upload's times and throughput, and how they compare."""
    disk_fsync = disk.fsync_speed(size)
    disk_nofsync = size / MIB / disk.nofsync_seconds
    throughput = size / MIB / m.result.seconds
    ratio = throughput / disk_fsync

    def of_disk(speed: float) -> str:
        return f"{speed / disk_fsync * 100:.1f} % of fsync disk"

    runs = ", ".join(f"{size / MIB / seconds:.0f}" for seconds in disk.fsync_runs)
    rows = [
        ("upload size", f"{args.size_mib} MiB ({size} bytes), raw body, 1 MiB generated chunks"),
        ("disk write + fsync (1 MiB blocks)", f"{disk_fsync:8.1f} MiB/s  (median of runs at {runs} MiB/s)"),
        ("disk write, no fsync (page cache)", f"{disk_nofsync:8.1f} MiB/s"),
        ("upload wall time (request -> 201)", f"{m.result.seconds:8.2f} s"),
        ("  of which client sending the body", f"{m.result.send_seconds:8.2f} s"),
        ("  of which after the last byte sent", f"{m.result.seconds - m.result.send_seconds:8.2f} s"),
        ("upload throughput", f"{throughput:8.1f} MiB/s"),
        ("  / disk write + fsync", f"{ratio * 100:8.1f} %   (target >= {THROUGHPUT_TARGET * 100:.0f} %)"),
        ("  / disk write, no fsync", f"{throughput / disk_nofsync * 100:8.1f} %"),
    ]
    if ceiling is not None:
        rows += [
            ("HTTP ceiling (app that discards)", f"{ceiling:8.1f} MiB/s  ({of_disk(ceiling)})"),
            ("  upload / HTTP ceiling", f"{throughput / ceiling * 100:8.1f} %"),
        ]  # fmt: skip
    if m.fsync_after is not None:
        durable = size / MIB / (m.result.seconds + m.fsync_after)
        rows += [
            ("fsync of the stored file after 201", f"{m.fsync_after:8.2f} s"),
            ("  throughput until durable", f"{durable:8.1f} MiB/s  ({of_disk(durable)})"),
        ]  # fmt: skip
    return rows


def server_rows(args: argparse.Namespace, size: int, m: Measured, fsyncs: bool | None) -> list[Row]:
    """The server's memory, writes and CPU during the upload, and whether the response is right."""
    body = m.result.body if isinstance(m.result.body, dict) else {}
    hwm = "could not reset VmHWM" if m.hwm_after_kib is None else f"VmHWM {m.hwm_after_kib / 1024:.1f} MiB"
    wchar, written, cancelled = (
        m.io.get(key, 0) / MIB for key in ("wchar", "write_bytes", "cancelled_write_bytes")
    )
    warm = "" if args.no_warmup else "  (after warm-up)"
    return [
        ("server RSS baseline", f"{m.baseline_kib / 1024:8.1f} MiB{warm}"),
        ("server peak RSS", f"{m.peak_rss_kib / 1024:8.1f} MiB  ({m.samples} samples; {hwm})"),
        ("server peak memory growth", f"{m.growth_mib():8.1f} MiB  (target <= {MEMORY_TARGET_MIB:.0f} MiB)"),
        ("server bytes written (wchar)", f"{wchar:8.1f} MiB  ({wchar * MIB / size:.2f} x the body)"),
        ("server write_bytes / cancelled", f"{written:8.1f} / {cancelled:.1f} MiB"),
        ("server body spool file, peak", f"{m.peak_spool_bytes / MIB:8.1f} MiB  (open, under {m.spool_dir})"),
        ("server stored file, peak seen open", f"{m.peak_stored_bytes / MIB:8.1f} MiB"),
        ("server CPU time (user + sys)", f"{m.server_cpu:8.2f} s"),
        ("client CPU time (user + sys)", f"{m.client_cpu:8.2f} s  (same machine, {os.cpu_count()} CPUs)"),
        ("response", f"{m.result.status}; size {'ok' if body.get('size') == size else 'MISMATCH'}; "
                     f"sha256 {'ok' if body.get('sha256') == m.expected_sha else 'MISMATCH'}"),
        ("server fsyncs the stored file?", {True: "yes", False: "no", None: "unknown"}[fsyncs]
         + " (Django FileSystemStorage._save)"),
    ]  # fmt: skip


def print_rows(rows: list[Row]) -> None:
    width = max(len(label) for label, _ in rows)
    print()
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print()


def print_verdicts(ratio: float, growth: float, fsyncs: bool | None) -> None:
    if fsyncs is False:
        print(
            "Note: the server does not fsync: its writes end in the page cache, while the disk figure\n"
            "includes an fsync, so the comparison favours the server. 'throughput until durable' adds\n"
            "an fsync of the stored file after the 201."
        )
        print()
    throughput_verdict = "PASS" if ratio >= THROUGHPUT_TARGET else "FAIL"
    memory_verdict = "PASS" if growth <= MEMORY_TARGET_MIB else "FAIL"
    print(f"throughput target (>= {THROUGHPUT_TARGET * 100:.0f} % of fsync disk speed): {throughput_verdict}")
    print(f"memory target (<= {MEMORY_TARGET_MIB:.0f} MiB growth): {memory_verdict}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add = parser.add_argument
    add("--size-mib", type=int, default=1024, help="size of the upload and of the disk test (1024)")
    add("--sample-ms", type=float, default=20.0, help="RSS sampling interval (20 ms)")
    add("--tmp-dir", default=None, help="parent of the temporary data folder (the system's temp dir)")
    add("--database-url", default=None, help="a database, not a fresh SQLite file (rows are left in it)")
    add("--disk-runs", type=int, default=3, help="write + fsync runs; the median is the disk speed (3)")
    add("--no-prewarm", action="store_true", help="skip the untimed page-cache warm-up before the disk test")
    add("--no-warmup", action="store_true", help="skip the 1 MiB warm-up upload before the memory baseline")
    add("--no-ceiling", action="store_true", help="skip the upload to a body-discarding app (HTTP ceiling)")
    add("--app", default="heatportal.asgi:application", help="ASGI app for uvicorn (to try a change)")
    add("--keep", action="store_true", help="keep the temporary data folder (for inspection)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    size = args.size_mib * MIB
    block = os.urandom(MIB)
    data_dir = Path(tempfile.mkdtemp(prefix="heat-upload-bench-", dir=args.tmp_dir)).resolve()
    env = bench_env(data_dir, args.database_url)
    server = None
    print(f"HEAT upload benchmark: {args.size_mib} MiB, data folder {data_dir}", flush=True)
    try:
        node_id, token = set_up(env)
        server, base_url = start_server(env, data_dir / "uvicorn.log", args.app)
        print(f"server pid {server.pid} at {base_url} ({args.app}), node instance {node_id}", flush=True)
        disk = measure_disk(data_dir, size, block, args.disk_runs, prewarm=not args.no_prewarm)
        if not args.no_warmup:  # run the view's code paths once so lazy imports are not counted
            warm = upload(base_url, node_id, token, MIB, block)
            if warm.status != 201:
                print(f"UPLOAD FAILED (1 MiB warm-up): {warm.status} {warm.body}")
                return 1
        try:
            measured = measure_upload(server, base_url, node_id, token, size, block, data_dir, args.sample_ms)
        except httpx.HTTPError as error:
            log = (data_dir / "uvicorn.log").read_text(errors="replace")[-3000:]
            print(f"UPLOAD FAILED: {error!r}\n--- server log:\n{log}")
            return 1
        stop_server(server)
        server = None
        ceiling = None if args.no_ceiling else measure_ceiling(env, data_dir, size, block)
        report(args, size, disk, measured, ceiling)
        if not measured.ok(size):
            result = measured.result
            print(
                f"UPLOAD FAILED: status {result.status}, sent {result.sent} bytes, {str(result.body)[:500]}"
            )
            return 1
        return 0
    finally:
        if server is not None:
            stop_server(server)
        if args.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
