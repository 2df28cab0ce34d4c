"""Celery tasks of sites_app: entry points that call one service each (Celery beat)."""

from __future__ import annotations

from celery import shared_task


@shared_task
def telemetry_history_sweep() -> dict[str, int]:
    """Delete telemetry history past its retention; on PostgreSQL, create the months ahead and
    drop expired months (``services.telemetry_history_sweep``)."""
    from sites_app import services

    return services.telemetry_history_sweep()
