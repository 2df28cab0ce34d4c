"""Celery: the broker (embedded filesystem folder or Redis), queues, limits and periodic sweeps."""

from datetime import timedelta

from .core import TIME_ZONE
from .crowd import CROWD_SWEEP_INTERVAL
from .database import REDIS_URL
from .environment import DATA_DIR, env
from .scenarios import SCENARIOS_SWEEP_INTERVAL

# Deliveries wait on the network, not the CPU: they have a queue of their own, served by a
# thread-pool worker (supervisord.conf `webhooks`), so that slow receivers never hold up
# scenario runs. Every periodic sweep goes to `sweeps`, served by a worker of its own
# (`sweeps`), so that busy workers cannot make recovery late (docs/operations.md).
SWEEP_TASKS = (
    "heatportal.accounts.tasks.purge_stale_tokens",
    "scenarios_app.tasks.scenarios_sweep",
    "crowd_app.tasks.expire_leases",
    "crowd_app.tasks.staging_sweep",
    "crowd_app.tasks.webhooks_sweep",
    "sites_app.tasks.telemetry_history_sweep",
)
CELERY_TASK_ROUTES = {
    "crowd_app.tasks.deliver_webhook": {"queue": "webhooks"},
    **{name: {"queue": "sweeps"} for name in SWEEP_TASKS},
}

# --- Celery -----------------------------------------------------------------------------------

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost//")
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=660)
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker: messages are files under the data folder, shared by the processes
    # of this machine. No server needed; a real worker process still runs the tasks. Our
    # transport is kombu's filesystem one with its races fixed (heatportal/broker.py).
    CELERY_BROKER_TRANSPORT = "heatportal.broker:Transport"
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "control", "processed", "bad"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "bad_folder": str(_broker_dir / "bad"),  # undecodable messages, kept and counted
        # No fsync per message, as SQLite's own commits here (WAL, synchronous=NORMAL): a crash
        # loses nothing (the page cache survives it); a power loss may lose the last messages or
        # leave one empty (moved to bad/), and every kind of queued work is sent again from the
        # database by its sweep. An fsync cost ~7 ms per enqueue (issue 11); BROKER_FSYNC=1 for it.
        "fsync": env.bool("BROKER_FSYNC", default=False),
        # Leftovers (control messages of stopped workers, claims of dead consumers) are dealt
        # with after this long: longer than a task may keep a worker from its control queue.
        "stale_after": CELERY_TASK_TIME_LIMIT * 2,
        # A waiting worker is woken by inotify when a message arrives or a prefetch slot frees
        # (heatportal/broker.py); it looks at the folder every watched_polling_interval anyway.
        # polling_interval is how often it looks where inotify is missing.
        "polling_interval": 0.1,
        "watched_polling_interval": 1.0,
    }
else:
    # Unacknowledged messages come back after this long: longer than the longest task, so
    # that a running task is never handed to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")


def _frequent(task: str, seconds: float) -> dict:
    """A beat entry that runs every ``seconds``; a late one is replaced by the next."""
    return {"task": task, "schedule": timedelta(seconds=seconds), "options": {"expires": seconds}}


# Periodic sweeps. Each app adds its own entry here, next to the task it runs.
CELERY_BEAT_SCHEDULE = {
    "purge-stale-tokens": {
        "task": "heatportal.accounts.tasks.purge_stale_tokens",
        "schedule": timedelta(hours=1),
    },
    # scenarios_app
    "scenarios-sweep": _frequent("scenarios_app.tasks.scenarios_sweep", SCENARIOS_SWEEP_INTERVAL),
    # crowd_app
    "crowd-expire-leases": {
        "task": "crowd_app.tasks.expire_leases",
        "schedule": timedelta(minutes=5),
    },
    "crowd-staging-sweep": _frequent("crowd_app.tasks.staging_sweep", CROWD_SWEEP_INTERVAL),
    "crowd-webhooks-sweep": _frequent("crowd_app.tasks.webhooks_sweep", CROWD_SWEEP_INTERVAL),
    # sites_app: telemetry history retention and its monthly partitions (SITES_TELEMETRY_RETENTION_DAYS)
    "sites-telemetry-history-sweep": _frequent("sites_app.tasks.telemetry_history_sweep", 3600),
}
