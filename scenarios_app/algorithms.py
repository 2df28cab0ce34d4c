"""The registry of algorithm templates, each with its typed parameter schema.

An algorithm is a function ``run(profile, params, report) -> dict``: ``profile`` is the
scenario's load profile (:class:`Profile`), ``params`` the validated parameter values and
``report(progress)`` tells the runner how far it got (a float in [0, 1]). What it returns is
the scenario's ``result``. An exception ends the scenario ``failed`` with the message recorded.

- ``Slow``: the document's example; waits ``duration`` seconds, reporting progress, and returns
  the profile without a battery (so the KPIs describe the site as it is).
- ``PeakShavingLP``: a battery dispatch that minimises the peak grid import, as a linear
  programme solved by SciPy's HiGHS, under power, energy and state-of-charge limits.
- ``SelfConsumption``: a rule-based battery dispatch: charge from PV surplus, discharge into
  the deficit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from scenarios_app.parameters import Parameter, Rule

Report = Callable[[float], None]


@dataclass
class Profile:
    timestamps: list[str]
    load_kw: np.ndarray
    pv_kw: np.ndarray
    price: np.ndarray
    step_hours: float

    @classmethod
    def from_dataset(cls, tables: dict, data_params: dict) -> Profile:
        table = tables.get("profile") or {}
        columns = table.get("columns") or []
        rows = table.get("rows") or []
        if not rows:
            raise ValueError("The dataset has no 'profile' rows to run on.")
        index = {name: columns.index(name) for name in ("timestamp", "load_kw", "pv_kw", "price_eur_per_kwh")}
        timestamps = [row[index["timestamp"]] for row in rows]
        load = np.array([row[index["load_kw"]] for row in rows], dtype=float)
        pv = np.array([row[index["pv_kw"]] for row in rows], dtype=float)
        price = np.array([row[index["price_eur_per_kwh"]] for row in rows], dtype=float)
        load *= data_params.get("load_scale", 1.0)
        pv *= data_params.get("pv_scale", 1.0)
        step_hours = 0.25
        if len(timestamps) > 1:
            steps = np.diff([datetime.fromisoformat(value).timestamp() for value in timestamps])
            step_hours = float(np.median(steps)) / 3600
        return cls(timestamps, load, pv, price, step_hours)


def _series(profile: Profile, *, battery_kw, soc, grid_import, grid_export) -> dict:
    def rounded(values) -> list[float]:
        return [round(float(value), 4) for value in values]

    return {
        "step_hours": profile.step_hours,
        "timestamps": profile.timestamps,
        "series": {
            "load_kw": rounded(profile.load_kw),
            "pv_kw": rounded(profile.pv_kw),
            "price_eur_per_kwh": rounded(profile.price),
            # Positive: the battery discharges into the site; negative: it charges.
            "battery_kw": rounded(battery_kw),
            "soc": rounded(soc),
            "grid_import_kw": rounded(grid_import),
            "grid_export_kw": rounded(grid_export),
        },
    }


# --- Slow -------------------------------------------------------------------------------------


def run_slow(profile: Profile, params: dict, report: Report) -> dict:
    duration = params["duration"]
    steps = max(10, duration * 5)
    started = time.monotonic()
    for step in range(1, steps + 1):
        # Until the step's point in time, not for a step's length: ``duration`` seconds in all,
        # however long reporting took.
        time.sleep(max(0.0, started + duration * step / steps - time.monotonic()))
        report(step / steps)
    net = profile.load_kw - profile.pv_kw
    zeros = np.zeros_like(net)
    result = _series(
        profile,
        battery_kw=zeros,
        soc=zeros,
        grid_import=np.maximum(net, 0),
        grid_export=np.maximum(-net, 0),
    )
    result["duration"] = duration
    result["battery"] = None
    return result


# --- Battery parameters -----------------------------------------------------------------------

BATTERY_PARAMETERS = (
    Parameter("capacity_kwh", "float", default=200.0, min=1.0, max=100_000.0, label="Capacity (kWh)"),
    Parameter("power_kw", "float", default=100.0, min=0.1, max=50_000.0, label="Power (kW)"),
    Parameter("efficiency", "float", default=0.92, min=0.5, max=1.0, label="Round-trip efficiency"),
    Parameter("initial_soc", "float", default=0.5, min=0.0, max=1.0, label="Initial state of charge"),
    Parameter("min_soc", "float", default=0.1, min=0.0, max=1.0, label="Minimum state of charge"),
    Parameter("max_soc", "float", default=0.9, min=0.0, max=1.0, label="Maximum state of charge"),
)
# Checked when a scenario is created (the API answers 400, the form shows them at the field).
BATTERY_RULES = (
    Rule("min_soc", "<", "max_soc", "The minimum state of charge must be below the maximum."),
    Rule("initial_soc", ">=", "min_soc", "The initial state of charge must not be below the minimum."),
    Rule("initial_soc", "<=", "max_soc", "The initial state of charge must not be above the maximum."),
)


def _battery(params: dict) -> tuple[float, float, float, float, float, float]:
    capacity, power = params["capacity_kwh"], params["power_kw"]
    low, high, initial = params["min_soc"], params["max_soc"], params["initial_soc"]
    # BATTERY_RULES refuse these when a scenario is created; this guards rows stored before.
    if low >= high:
        raise ValueError(f"min_soc ({low:g}) must be below max_soc ({high:g}).")
    if not low <= initial <= high:
        raise ValueError(f"initial_soc ({initial:g}) must lie between min_soc and max_soc.")
    one_way = math.sqrt(params["efficiency"])
    return capacity, power, low, high, initial, one_way


# --- Peak shaving (linear programme) -----------------------------------------------------------


# Exempt from the length limit (.ci/function-length): one linear programme built step by step,
# read best as the model it states.
def run_peak_shaving(profile: Profile, params: dict, report: Report) -> dict:
    """Minimise the peak grid import (then, lightly, the energy cost) with a battery.

    Variables per step t: charge c, discharge d (kW), stored energy s (kWh), grid import g and
    export x (kW); and the peak p. Constraints: g - x = load - pv + c - d;
    s_t = s_{t-1} + eta c dt - d dt / eta; min_soc E <= s_t <= max_soc E; s_T >= s_0; g_t <= p.
    Objective ``peak``: p plus a tiny energy-cost term to pick among equal peaks;
    ``peak_and_cost``: demand_charge * p + energy cost.
    """
    from scipy import sparse
    from scipy.optimize import linprog

    capacity, power, low, high, initial, eta = _battery(params)
    n, dt = len(profile.timestamps), profile.step_hours
    net = profile.load_kw - profile.pv_kw
    report(0.1)
    # Variable layout: [c (n), d (n), s (n), g (n), x (n), p]
    c, d, s, g, x, p = 0, n, 2 * n, 3 * n, 4 * n, 5 * n
    size = 5 * n + 1
    eye = sparse.identity(n, format="csr")
    zero = sparse.csr_matrix((n, n))
    # Power balance: g - x - c + d = net
    balance = sparse.hstack([-eye, eye, zero, eye, -eye, sparse.csr_matrix((n, 1))])
    # Storage: s_t - s_{t-1} - eta dt c_t + dt/eta d_t = 0 (s_{-1} = initial energy)
    shift = sparse.diags([np.ones(n - 1)], [-1], shape=(n, n), format="csr")
    storage = sparse.hstack(
        [-eta * dt * eye, (dt / eta) * eye, eye - shift, zero, zero, sparse.csr_matrix((n, 1))]
    )
    a_eq = sparse.vstack([balance, storage], format="csr")
    b_eq = np.concatenate([net, np.zeros(n)])
    b_eq[n] = initial * capacity
    # Peak: g_t - p <= 0; cyclic: -s_T <= -s_0
    peak = sparse.hstack([zero, zero, zero, eye, zero, -np.ones((n, 1))])
    cyclic = sparse.csr_matrix(([-1.0], ([0], [s + n - 1])), shape=(1, size))
    a_ub = sparse.vstack([peak, cyclic], format="csr")
    b_ub = np.concatenate([np.zeros(n), [-initial * capacity]])
    charge_bound = power if params["allow_grid_charging"] else None
    bounds = (
        [(0, charge_bound if charge_bound is not None else min(power, max(pv - load, 0.0)))
         for pv, load in zip(profile.pv_kw, profile.load_kw, strict=True)]
        + [(0, power)] * n
        + [(low * capacity, high * capacity)] * n
        + [(0, None)] * (2 * n)
        + [(0, None)]
    )  # fmt: skip
    cost = np.zeros(size)
    energy_cost = profile.price * dt
    if params["objective"] == "peak":
        cost[p] = 1.0
        cost[g : g + n] = 1e-4 * energy_cost
        cost[c : c + n] = cost[d : d + n] = 1e-6  # no pointless cycling
    else:
        cost[p] = params["demand_charge_eur_per_kw"]
        cost[g : g + n] = energy_cost
        cost[c : c + n] = cost[d : d + n] = 1e-6
    report(0.3)
    solution = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if solution.status != 0:
        raise RuntimeError(f"The optimisation did not succeed: {solution.message}")
    report(0.9)
    values = solution.x
    charge, discharge = values[c : c + n], values[d : d + n]
    result = _series(
        profile,
        battery_kw=discharge - charge,
        soc=values[s : s + n] / capacity,
        grid_import=values[g : g + n],
        grid_export=values[x : x + n],
    )
    result["battery"] = {"capacity_kwh": capacity, "power_kw": power}
    result["optimisation"] = {
        "solver": "highs",
        "status": solution.message,
        "objective": float(solution.fun),
        "peak_import_kw": float(values[p]),
        "baseline_peak_import_kw": float(np.maximum(net, 0).max()),
    }
    return result


# --- Self-consumption (rules) ----------------------------------------------------------------


def run_self_consumption(profile: Profile, params: dict, report: Report) -> dict:
    """Charge from PV surplus, discharge into the deficit, within power and SoC limits."""
    capacity, power, low, high, initial, eta = _battery(params)
    n, dt = len(profile.timestamps), profile.step_hours
    reserve = params["reserve_soc"]
    floor = max(low, reserve) * capacity
    energy = initial * capacity
    battery, soc, grid_import, grid_export = (np.zeros(n) for _ in range(4))
    every = max(1, n // 20)
    for t in range(n):
        surplus = profile.pv_kw[t] - profile.load_kw[t]
        if surplus > 0:
            room = max(high * capacity - energy, 0.0)
            charge = min(surplus, power, room / (eta * dt))
            energy += charge * eta * dt
            battery[t] = -charge
            grid_export[t] = surplus - charge
        else:
            available = max(energy - floor, 0.0)
            discharge = min(-surplus, power, available * eta / dt)
            energy -= discharge * dt / eta
            battery[t] = discharge
            grid_import[t] = -surplus - discharge
        soc[t] = energy / capacity
        if t % every == 0:
            report(t / n)
    result = _series(profile, battery_kw=battery, soc=soc, grid_import=grid_import, grid_export=grid_export)
    result["battery"] = {"capacity_kwh": capacity, "power_kw": power}
    return result


# --- Registry ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Algorithm:
    name: str
    parameters: tuple[Parameter, ...]
    run: Callable[[Profile, dict, Report], dict]
    description: str = ""
    rules: tuple[Rule, ...] = ()  # cross-field rules of ``parameters``


REGISTRY: dict[str, Algorithm] = {
    algorithm.name: algorithm
    for algorithm in (
        Algorithm(
            "Slow",
            (Parameter("duration", "integer", default=1, min=1, max=60, label="Duration (s)"),),
            run_slow,
            "Waits `duration` seconds, reporting progress; the site without a battery.",
        ),
        Algorithm(
            "PeakShavingLP",
            (
                *BATTERY_PARAMETERS,
                Parameter(
                    "allow_grid_charging", "boolean", default=True, label="Allow charging from the grid"
                ),
                Parameter(
                    "objective", "enum", default="peak", choices=("peak", "peak_and_cost"), label="Objective"
                ),
                Parameter(
                    "demand_charge_eur_per_kw",
                    "float",
                    default=15.0,
                    min=0.0,
                    max=1000.0,
                    label="Demand charge (EUR/kW), for peak_and_cost",
                ),
                Parameter("label", "string", default="", required=False, max_length=80, label="Label"),
            ),
            run_peak_shaving,
            "Battery dispatch minimising the peak grid import: a linear programme solved by HiGHS.",
            rules=BATTERY_RULES,
        ),
        Algorithm(
            "SelfConsumption",
            (
                *BATTERY_PARAMETERS,
                Parameter("reserve_soc", "float", default=0.0, min=0.0, max=1.0, label="Reserve kept (SoC)"),
            ),
            run_self_consumption,
            "Rule-based battery dispatch: charge from PV surplus, discharge into the deficit.",
            rules=BATTERY_RULES,
        ),
    )
}
ALGORITHM_NAMES = list(REGISTRY)
