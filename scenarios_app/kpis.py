"""KPI templates: computed from a scenario's result after a run.

Each KPI reads the result's time series (``series`` and ``step_hours``, as every built-in
algorithm returns them); a result without them gives ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Kpi:
    name: str
    unit: str
    compute: Callable[[dict, float], float | None]
    label: str = ""


def _peak_import(series: dict, dt: float) -> float:
    return float(np.max(series["grid_import_kw"], initial=0.0))


def _energy_cost(series: dict, dt: float) -> float:
    return float(np.dot(series["grid_import_kw"], series["price_eur_per_kwh"]) * dt)


def _self_consumption(series: dict, dt: float) -> float | None:
    produced = float(np.sum(series["pv_kw"]))
    if produced <= 0:
        return None
    return 100.0 * (1.0 - float(np.sum(series["grid_export_kw"])) / produced)


def _battery_cycles(series: dict, dt: float, *, capacity: float | None = None) -> float:
    if not capacity:
        return 0.0
    discharged = float(np.sum(np.maximum(series["battery_kw"], 0.0))) * dt
    return discharged / capacity


REGISTRY: dict[str, Kpi] = {
    kpi.name: kpi
    for kpi in (
        Kpi("peak_import_kw", "kW", _peak_import, "Peak grid import"),
        Kpi("energy_cost", "EUR", _energy_cost, "Energy cost"),
        Kpi("self_consumption_share", "%", _self_consumption, "Self-consumption share"),
        Kpi("battery_cycles", "cycles", _battery_cycles, "Battery cycles"),
    )
}
KPI_NAMES = list(REGISTRY)


def compute_kpis(names: list[str], result: dict | None) -> dict:
    """``{name: value}`` for the session's KPIs (values rounded; None when not applicable)."""
    values: dict[str, float | None] = {}
    series = (result or {}).get("series")
    dt = (result or {}).get("step_hours") or 0.25
    capacity = ((result or {}).get("battery") or {}).get("capacity_kwh")
    for name in names:
        kpi = REGISTRY.get(name)
        if kpi is None or not series:
            values[name] = None
            continue
        value: float | None
        if name == "battery_cycles":
            value = _battery_cycles(series, dt, capacity=capacity)
        else:
            value = kpi.compute(series, dt)
        values[name] = None if value is None else round(value, 4)
    return values


def kpi_payload(names: list[str], values: dict | None) -> dict:
    """The document's ``kpis`` object: ``{name: {"name", "value", "unit"}}``."""
    values = values or {}
    return {
        name: {
            "name": name,
            "value": values.get(name),
            "unit": REGISTRY[name].unit if name in REGISTRY else "",
        }
        for name in names
    }
