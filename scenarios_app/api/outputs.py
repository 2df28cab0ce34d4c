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


def algorithm_output(name: str, values: dict) -> dict:
    algorithm = algorithms.REGISTRY.get(name)
    if algorithm is None:
        parameters = [{"name": key, "value": value} for key, value in values.items()]
    else:
        parameters = describe(algorithm.parameters, values)
    return {"name": name, "parameters": parameters}


def scenario_list_output(rows: list[dict], kpi_names: list[str]) -> list[dict]:
    """``GET .../scenarios``. What rows share is built once: the KPI object of a scenario that
    is not complete (no values), and the algorithm object of the same algorithm with the same
    parameter values (:func:`scenarios_app.selectors.scenario_table` gives equal parameter texts
    one value)."""
    no_values = kpis.kpi_payload(kpi_names, None)
    algorithm_objects: dict = {}
    bodies = []
    for row in rows:
        key = (row["algo_name"], id(row["algo_params"]))
        algorithm = algorithm_objects.get(key)
        if algorithm is None:
            algorithm = algorithm_objects[key] = algorithm_output(row["algo_name"], row["algo_params"])
        bodies.append(scenario_row_output(row, kpi_names, no_values=no_values, algorithm=algorithm))
    return bodies


def scenario_row_output(
    row: dict, kpi_names: list[str], *, no_values: dict | None = None, algorithm: dict | None = None
) -> dict:
    """``Scenario.to_dict()`` from a row of :func:`scenarios_app.selectors.scenario_table`:
    result and KPI values are null until the scenario is complete."""
    complete = row["status"] == Scenario.Status.COMPLETE
    kpi_object = no_values
    if complete or kpi_object is None:
        kpi_object = kpis.kpi_payload(kpi_names, row["kpi_values"] if complete else None)
    return {
        "id": row["id"],
        "tag": row["tag"],
        "input_data_id": row["input_data_id"],
        "algorithm": algorithm or algorithm_output(row["algo_name"], row["algo_params"]),
        "data_params": row["data_params"],
        "kpis": kpi_object,
        "status": row["status"],
        "progress": row["progress"],
        "error": row["error"] or None,
        "result": row["result"] if complete else None,
    }


def scenario_output(scenario: Scenario, *, session: RunnerSession | None = None) -> dict:
    """The same body from a model row. ``session``: the scenario's, when the caller has it, so
    it is not read again."""
    row = {
        "id": str(scenario.pk),
        "tag": scenario.tag,
        "input_data_id": scenario.dataset.key,
        "algo_name": scenario.algo_name,
        "algo_params": scenario.algo_params,
        "data_params": scenario.data_params,
        "status": scenario.status,
        "progress": scenario.progress,
        "error": scenario.error,
        "result": scenario.result,
        "kpi_values": scenario.kpi_values,
    }
    return scenario_row_output(row, (session or scenario.session).kpis)


def scenario_status_output(row: dict) -> dict:
    """The poll body, from :func:`scenarios_app.selectors.scenario_status`'s row."""
    return {"id": str(row["id"]), "tag": row["tag"], "status": row["status"], "progress": row["progress"]}
