"""What a new runner session is configured with."""

from __future__ import annotations

from scenarios_app import algorithms, kpis


def default_configuration() -> dict[str, list[str]]:
    """A new session's algorithms and KPIs: every one the runner has."""
    return {"algorithms": list(algorithms.ALGORITHM_NAMES), "kpis": list(kpis.KPI_NAMES)}
