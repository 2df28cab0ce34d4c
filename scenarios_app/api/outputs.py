"""The runner's response bodies (document 003's shapes): plain functions, model row → dict."""

from __future__ import annotations

from collections.abc import Iterable

from scenarios_app import algorithms, kpis
from scenarios_app.models import RunnerSession, Scenario
from scenarios_app.parameters import describe


def session_list_output(sessions: Iterable[RunnerSession]) -> dict:
    """``GET /sessions``: the default is the session created first."""
    rows = [{"id": str(session.pk), "display_name": session.display_name} for session in sessions]
    return {"sessions": rows, "default": rows[0]["id"] if rows else None}


def session_output(session: RunnerSession) -> dict:
    return {"id": str(session.pk), "display_name": session.display_name}


def algorithm_output(scenario: Scenario) -> dict:
    algorithm = algorithms.REGISTRY.get(scenario.algo_name)
    if algorithm is None:
        parameters = [{"name": name, "value": value} for name, value in scenario.algo_params.items()]
    else:
        parameters = describe(algorithm.parameters, scenario.algo_params)
    return {"name": scenario.algo_name, "parameters": parameters}


def scenario_output(scenario: Scenario, *, session: RunnerSession | None = None) -> dict:
    """``Scenario.to_dict()``: result and KPI values are null until the scenario is complete.
    ``session``: the scenario's, when the caller has it (a list), so it is not read per row."""
    session = session or scenario.session
    complete = scenario.status == Scenario.Status.COMPLETE
    return {
        "id": str(scenario.pk),
        "tag": scenario.tag,
        "input_data_id": scenario.dataset.key,
        "algorithm": algorithm_output(scenario),
        "data_params": scenario.data_params,
        "kpis": kpis.kpi_payload(session.kpis, scenario.kpi_values if complete else None),
        "status": scenario.status,
        "progress": scenario.progress,
        "error": scenario.error or None,
        "result": scenario.result if complete else None,
    }


def scenario_status_output(row: dict) -> dict:
    """The poll body, from :func:`scenarios_app.selectors.scenario_status`'s row."""
    return {"id": str(row["id"]), "tag": row["tag"], "status": row["status"], "progress": row["progress"]}
