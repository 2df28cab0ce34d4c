"""The process layout of ``make run`` (supervisord.conf) and what a killed worker leaves behind."""

import configparser
import os
import re
import signal
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.helpers import ROOT
from tests.waiting import wait_for


def _programs() -> dict[str, str]:
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "supervisord.conf")
    return {
        section.removeprefix("program:"): config[section]["command"]
        for section in config.sections()
        if section.startswith("program:")
    }


def test_every_queue_that_tasks_are_routed_to_has_a_worker_and_sweeps_have_their_own():
    programs = _programs()
    consumed = {
        name: set(re.search(r"--queues (\S+)", command).group(1).split(","))
        for name, command in programs.items()
        if " worker " in command
    }
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {"celery"}

    assert routed <= set().union(*consumed.values())
    assert consumed["sweeps"] == {"sweeps"} and "--pool solo" in programs["sweeps"]
    assert all("sweeps" not in queues for name, queues in consumed.items() if name != "sweeps")
    assert "celery" in consumed["worker"] and " beat " in programs["beat"]
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert settings.CELERY_TASK_ROUTES[entry["task"]] == {"queue": "sweeps"}


def test_every_program_is_restarted_and_stopped_with_its_group():
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "supervisord.conf")
    programs = [section for section in config.sections() if section.startswith("program:")]

    assert {name.removeprefix("program:") for name in programs} == {
        "web",
        "worker",
        "webhooks",
        "sweeps",
        "beat",
    }
    for section in programs:
        assert config[section]["autorestart"] == "true"
        assert config[section]["killasgroup"] == "true"
    assert config["group:portal"]["programs"].split(",") == ["web", "worker", "webhooks", "sweeps", "beat"]


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_pool_children_die_with_their_main_process(celery_workers):
    """kill -9 of a prefork worker's main process: its pool children must not live on as
    orphans that keep running tasks beside the worker the supervisor starts again."""
    hostname = celery_workers.start(concurrency=2, queues="celery")
    process = celery_workers.processes.pop(hostname)
    children = _children(process.pid)
    assert len(children) == 2

    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    assert wait_for(lambda: not any(_alive(child) for child in children), timeout=5)


def test_web_workers_die_with_granians_main_process(tmp_path):
    """kill -9 of granian's main process: its worker must not keep serving the port beside the
    server the supervisor starts again (heatportal/asgi.py)."""
    import socket
    import subprocess
    import sys

    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    env = {**os.environ, "HEAT_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    granian = Path(sys.executable).parent / "granian"
    command = [str(granian), "--interface", "asgi", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(
        [*command, "heatportal.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not _children(server.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = _children(server.pid)
        assert workers
        while time.monotonic() < deadline:  # the worker has imported the app (and set its signal)
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)

        os.kill(server.pid, signal.SIGKILL)
        server.wait()

        assert wait_for(lambda: not any(_alive(worker) for worker in workers), timeout=5)
    finally:
        server.kill()
        for worker in _children(server.pid) if _alive(server.pid) else []:
            os.kill(worker, signal.SIGKILL)
