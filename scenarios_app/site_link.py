"""From a site's measured history to a runner dataset, and from a scenario's battery dispatch to
a site's BESS schedule (issue 14): the pure part, without the database.

- :func:`profile_rows`: the ``profile`` rows (``timestamp, load_kw, pv_kw,
  price_eur_per_kwh``, the ``load_profile`` schema of :mod:`scenarios_app.datasets`) of one
  15-minute step each, from the site's 15-minute power samples; steps without data are counted
  and filled from the nearest earlier step (the first ones from the nearest later one).
- :func:`dispatch_entries`: a result's ``battery_kw`` series as BESS ``activePowerkW`` entries
  from a start time, one per step, rounded to :data:`VALUE_DECIMALS` and merged into runs of
  equal value. The runner's ``battery_kw`` is positive when the battery discharges, as document
  002's BESS ``activePowerkW`` is (:mod:`heatportal.energy`): the values cross unchanged
  (:data:`SITE_SIGN`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from heatportal.energy import STEP_MINUTES, BessEntry, PowerSample

STEP = timedelta(minutes=STEP_MINUTES)
MAX_MISSING_SHARE = 0.10  # at most this share of a range's 15-minute steps may lack data
MAX_RANGE = timedelta(days=92)
DEFAULT_PRICE_EUR_PER_KWH = 0.25  # when no price series is given: a flat tariff
VALUE_DECIMALS = 1  # kW: a schedule's setpoints to 0.1 kW, so that runs of equal value merge
SITE_SIGN = 1.0  # document 002's BESS activePowerkW = SITE_SIGN x the runner's battery_kw


def step_floor(moment: datetime) -> datetime:
    """The start of the 15-minute step (aligned to the UTC epoch) that holds ``moment``."""
    seconds = int(STEP.total_seconds())
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def step_starts(start: datetime, end: datetime) -> list[datetime]:
    """The 15-minute steps that begin in ``[step_floor(start), end)``."""
    moment, steps = step_floor(start), []
    while moment < end:
        steps.append(moment)
        moment += STEP
    return steps


@dataclass(frozen=True)
class Price:
    """A price (EUR/kWh) that holds from ``t`` until the next one's ``t``."""

    t: datetime
    value: float


def price_lookup(prices: Sequence[Price] | None) -> tuple[list[datetime], list[float]]:
    if not prices:
        return [], []
    ordered = sorted(prices, key=lambda price: price.t)
    return [price.t for price in ordered], [price.value for price in ordered]


def _price_at(moment: datetime, times: list[datetime], values: list[float]) -> float:
    if not times:
        return DEFAULT_PRICE_EUR_PER_KWH
    return values[max(bisect.bisect_right(times, moment) - 1, 0)]


@dataclass(frozen=True)
class Profile:
    """The dataset's ``profile`` rows, and how many of its steps had no data (filled)."""

    rows: list[list[Any]]
    missing: int

    @property
    def missing_share(self) -> float:
        return self.missing / len(self.rows) if self.rows else 1.0


def profile_rows(
    samples: Iterable[PowerSample],
    *,
    steps: list[datetime],
    has_solar: bool,
    prices: Sequence[Price] | None = None,
) -> Profile:
    """One row per step: load and PV (kW, not below 0) and the price. A step lacks data when it
    has no load, or no PV at a site with solar; a site without solar has 0 kW PV."""
    measured: dict[datetime, tuple[float, float]] = {}
    for sample in samples:
        if sample.load_kw is None or (has_solar and sample.pv_kw is None):
            continue
        measured[sample.t] = (max(sample.load_kw, 0.0), max(sample.pv_kw or 0.0, 0.0))
    values: list[tuple[float, float] | None] = [measured.get(step) for step in steps]
    missing = sum(1 for value in values if value is None)
    filled = _filled(values)
    times, price_values = price_lookup(prices)
    rows = [
        [step.isoformat(), round(load, 3), round(pv, 3), _price_at(step, times, price_values)]
        for step, (load, pv) in zip(steps, filled, strict=True)
    ]
    return Profile(rows, missing)


def _filled(values: list[tuple[float, float] | None]) -> list[tuple[float, float]]:
    """Each gap filled from the nearest earlier value; leading gaps from the first value."""
    first = next((value for value in values if value is not None), (0.0, 0.0))
    filled, last = [], first
    for value in values:
        last = value if value is not None else last
        filled.append(last)
    return filled


class NoDispatch(ValueError):
    """A scenario result without a battery dispatch (the message says why)."""


def battery_series(result: Any) -> tuple[list[float], float]:
    """The result's ``battery_kw`` and its step (hours); raises :class:`NoDispatch`."""
    series = result.get("series") if isinstance(result, dict) else None
    battery = series.get("battery_kw") if isinstance(series, dict) else None
    if not isinstance(battery, list) or not battery or result.get("battery") is None:
        raise NoDispatch("The scenario's result has no battery dispatch (its algorithm models no battery).")
    step_hours = result.get("step_hours") or STEP_MINUTES / 60
    return [float(value) for value in battery], float(step_hours)


def dispatch_entries(
    battery_kw: Sequence[float], *, step_hours: float, start_at: datetime
) -> list[BessEntry]:
    """One entry per step from ``start_at``, runs of equal (rounded) value merged into one."""
    step = timedelta(hours=step_hours)
    entries: list[BessEntry] = []
    for index, raw in enumerate(battery_kw):
        value = round(SITE_SIGN * raw, VALUE_DECIMALS) + 0.0  # + 0.0: no -0.0
        begins = start_at + index * step
        if entries and entries[-1].value == value and entries[-1].end_at == begins:
            entries[-1] = BessEntry(entries[-1].start_at, begins + step, value)
        else:
            entries.append(BessEntry(begins, begins + step, value))
    return entries
