"""Test-only support for the embedded broker's tests: a task that records its deliveries, and
the producer and pinger processes of the stress test.

Workers import this module with ``--include tests.heatportal.broker_support`` so that the task
never reaches production code. Producers and pingers run as separate processes through
``python -m tests.heatportal.broker_support produce|ping ...``, with the portal's own settings
and Celery app, exactly as the web processes do.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from heatportal.celery import app

ROOT = Path(__file__).resolve().parents[2]
RECORD_TASK = "tests.heatportal.broker_support.record"


@app.task(name=RECORD_TASK, ignore_result=True)
def record(message_id: str, folder: str) -> None:
    """One file per delivery, named after the message: duplicates show as two files."""
    path = os.path.join(folder, f"{message_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))


def deliveries(folder: Path) -> dict[str, int]:
    """How many times each message id was delivered."""
    counts: dict[str, int] = {}
    for name in os.listdir(folder):
        message_id = name.partition(".")[0]
        counts[message_id] = counts.get(message_id, 0) + 1
    return counts


# --- Processes on an embedded broker of their own ----------------------------------------------


class EmbeddedBroker:
    """Worker, producer and pinger processes on the embedded default (the filesystem broker
    under ``data_dir``), whatever broker and database the test process itself uses."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.broker_dir = data_dir / "broker"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "HEAT_TEST_DATABASE_NAME"}
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="heatportal.settings.base",
            HEAT_DATA_DIR=str(data_dir),
            PYTHONUNBUFFERED="1",
        )
        self.workers: dict[str, subprocess.Popen] = {}

    def log(self, hostname: str) -> Path:
        return self.data_dir / f"{hostname}.log"

    def start_worker(self, hostname: str, *, concurrency: int = 2, prefetch: int = 1) -> subprocess.Popen:
        with open(self.log(hostname), "wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "heatportal", "worker",
                    "--include", "tests.heatportal.broker_support", "--hostname", hostname,
                    "--concurrency", str(concurrency), "--prefetch-multiplier", str(prefetch),
                    "--queues", "celery",
                    "--loglevel", "INFO", "--without-mingle", "--without-gossip",
                ],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.workers[hostname] = process
        return process

    def wait_until_up(self, hostnames: list[str], timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while True:
            answered = set(self.ping(timeout=1))
            if answered >= set(hostnames):
                return
            for hostname in hostnames:
                if self.workers[hostname].poll() is not None:
                    raise RuntimeError(f"worker {hostname} exited; see {self.log(hostname)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers {hostnames} did not answer; see {self.data_dir}")

    def ping(self, timeout: float = 1) -> list[str]:
        """The workers that answer a ``ping`` sent from a process of its own."""
        result = self.run("ping", "--timeout", str(timeout))
        return json.loads(result.stdout.splitlines()[-1])

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "tests.heatportal.broker_support", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout, check=True,
        )  # fmt: skip

    def spawn(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.heatportal.broker_support", *args],
            cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def stop_workers(self) -> None:
        for process in self.workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- Entry points of the producer and pinger processes -----------------------------------------


def produce(prefix: str, count: int, folder: str) -> None:
    for number in range(count):
        app.send_task(RECORD_TASK, args=[f"{prefix}-{number:06d}", folder])
    print(json.dumps({"sent": count}))


def ping_until(stop_file: str, timeout: float, expected: int) -> None:
    """Ping until ``stop_file`` exists; print how many pings and how many replies."""
    pings = replies = full = 0
    while not os.path.exists(stop_file):
        answered = app.control.ping(timeout=timeout)
        pings += 1
        replies += len(answered)
        full += len(answered) >= expected
    print(json.dumps({"pings": pings, "replies": replies, "answered_by_all": full}))


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    producer = commands.add_parser("produce")
    producer.add_argument("--prefix", required=True)
    producer.add_argument("--count", type=int, required=True)
    producer.add_argument("--folder", required=True)
    pinger = commands.add_parser("ping")
    pinger.add_argument("--timeout", type=float, default=1.0)
    pinger.add_argument("--until", help="ping until this file exists")
    pinger.add_argument("--expected", type=int, default=2)
    args = parser.parse_args()
    if args.command == "produce":
        produce(args.prefix, args.count, args.folder)
    elif args.until:
        ping_until(args.until, args.timeout, args.expected)
    else:
        print(json.dumps(sorted(name for reply in app.control.ping(timeout=args.timeout) for name in reply)))


if __name__ == "__main__":
    main()
