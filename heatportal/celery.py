"""The Celery application. Its configuration is the ``CELERY_*`` block of the settings."""

import os

from celery import Celery
from celery.signals import worker_process_init
from django.db import transaction

from heatportal.processes import die_with_parent

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heatportal.settings.base")

app = Celery("heatportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The pid of the process that imported this module first: in a prefork worker, the main
# process, whose pool children inherit the value.
_MAIN_PID = os.getpid()


@worker_process_init.connect
def _die_with_the_main_process(**_kwargs) -> None:
    """A pool child is killed when its worker's main process dies (Linux PR_SET_PDEATHSIG).

    Without it, a ``kill -9`` of the main process leaves its pool children running their tasks
    as orphans: billiard's children notice a dead parent only when they next read their job
    pipe, so a child in a 10-minute scenario run keeps running, beating for it, outside the
    supervisor's reach (the restarted worker is another process group), and survives the
    portal's stop. Dead at once instead, its scenario stops beating and the sweep re-queues it.
    """
    if os.getpid() != _MAIN_PID:  # the solo pool sends this signal too, from the main process
        die_with_parent(_MAIN_PID)


def enqueue_on_commit(task_name: str, *args, countdown: float | None = None) -> None:
    """Send the task named ``task_name`` (``"crowd_app.tasks.deliver_webhook"``) with ``args``
    once the caller's transaction commits (at once outside one), routed by
    ``CELERY_TASK_ROUTES``, to run ``countdown`` seconds later if given. By name: services
    enqueue tasks without importing them, and tasks are thin entry points that call services,
    so neither imports the other both ways."""
    transaction.on_commit(lambda: app.send_task(task_name, args=args, countdown=countdown))
