"""Live health of what the portal depends on: the database, the broker and Celery workers."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field

from asgiref.sync import sync_to_async
from django.db import connection

from heatportal.broker import bad_message_count
from heatportal.celery import app as celery_app

WORKER_PING_TIMEOUT = 1.0


@dataclass
class Check:
    ok: bool
    detail: str
    latency_ms: float | None = None
    names: list[str] = field(default_factory=list)


def _timed(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 1)


def database_health() -> Check:
    start = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "down"
        return Check(ok=False, detail=f"{type(error).__name__}: {error}".strip())
    return Check(ok=True, detail=connection.vendor, latency_ms=_timed(start))


@dataclass
class BrokerCheck(Check):
    #: Embedded broker only: undecodable messages kept aside for an operator (heatportal/broker.py).
    bad_messages: int | None = None


def broker_bad_messages() -> int | None:
    """How many undecodable messages the embedded broker has set aside; ``None`` on Redis."""
    folder = (celery_app.conf.broker_transport_options or {}).get("bad_folder")
    return None if folder is None else bad_message_count(folder)


def broker_health() -> BrokerCheck:
    start = time.monotonic()
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            transport = conn.transport_cls
    except Exception as error:  # kombu raises a variety of connection errors
        return BrokerCheck(ok=False, detail=f"{type(error).__name__}: {error}".strip())
    detail, bad = str(transport), broker_bad_messages()
    if bad:
        detail += f"; {bad} undecodable message{'s' if bad > 1 else ''} set aside"
    return BrokerCheck(ok=True, detail=detail, latency_ms=_timed(start), bad_messages=bad)


def workers_health(timeout: float = WORKER_PING_TIMEOUT) -> Check:
    """Ping the workers through the broker; the ones that answer within ``timeout`` are up."""
    start = time.monotonic()
    try:
        replies = celery_app.control.ping(timeout=timeout)
    except Exception as error:
        return Check(ok=False, detail=f"{type(error).__name__}: {error}".strip())
    names = sorted(name for reply in replies or [] for name in reply)
    if not names:
        return Check(ok=False, detail="no worker answered", latency_ms=_timed(start))
    plural = "s" if len(names) > 1 else ""
    return Check(ok=True, detail=f"{len(names)} worker{plural} up", latency_ms=_timed(start), names=names)


def portal_health() -> dict:
    return health_report(database_health(), broker_health(), workers_health())


async def aportal_health() -> dict:
    """portal_health for async views: the broker checks run off the event loop, concurrently,
    and the database is asked last, so that a client gone meanwhile costs no connection."""
    broker, workers = await asyncio.gather(
        asyncio.to_thread(broker_health), asyncio.to_thread(workers_health)
    )
    database = await sync_to_async(database_health)()
    return health_report(database, broker, workers)


def health_report(database: Check, broker: Check, workers: Check) -> dict:
    checks = {"database": database, "broker": broker, "workers": workers}
    return {
        "status": "ok" if all(check.ok for check in checks.values()) else "degraded",
        **{name: asdict(check) for name, check in checks.items()},
    }
