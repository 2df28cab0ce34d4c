"""The bridge between the scenario runner and the energy sites (issue 14), without either app
importing the other (``lint-imports``: no app imports another).

This module defines what the runner may ask of the energy sites (:class:`EnergySites`) and the
typed values that cross (:class:`SiteInfo`, :class:`PowerSample`, :class:`BessEntry`,
:class:`ScheduleCheck`, :class:`AppliedBatch`); ``sites_app/energy.py`` implements it with the
sites' selectors and services and registers itself (:func:`register`) when its app is ready;
``scenarios_app`` asks :func:`energy_sites` for it.

Sign convention: a :class:`BessEntry`'s ``value`` is document 002's BESS ``activePowerkW``,
positive when the battery discharges into the site, negative when it charges (the sign of the
grid's limits, "positive = import", read from the site's side: power flowing into the site is
positive). The runner's ``battery_kw`` has the same sign, so a dispatch crosses unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from heatportal.services import ServiceError

# Minutes of one step of the power series the runner reads (the runner's datasets' resolution).
STEP_MINUTES = 15


@dataclass(frozen=True)
class SiteInfo:
    """A site as the runner sees it: its asset types and its BESS's rated power and capacity
    (None when it has no BESS, or no rated capacity)."""

    id: uuid.UUID
    name: str
    group: str
    assets: frozenset[str]
    bess_power_kw: float | None = None
    bess_capacity_kwh: float | None = None


@dataclass(frozen=True)
class PowerSample:
    """The mean power of one 15-minute step that has reports: the load asset's and the solar
    asset's ``activePowerkW`` (None where the step has no value for it)."""

    t: datetime
    load_kw: float | None
    pv_kw: float | None


@dataclass(frozen=True)
class BessEntry:
    """One entry of a BESS ``activePowerkW`` schedule command (document 002's sign: + discharge)."""

    start_at: datetime
    end_at: datetime
    value: float


@dataclass(frozen=True)
class ScheduleCheck:
    """What the sites' schedule rules say of a batch: ``ok``, or their message and details
    (document 002's ``details`` items)."""

    ok: bool
    message: str = ""
    details: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class AppliedBatch:
    batch_id: uuid.UUID
    accepted: int


class EnergySites(Protocol):
    """What the runner asks of the energy sites."""

    def site_list(self) -> list[SiteInfo]:
        """Every site, by group and name."""
        ...

    def site_get(self, *, site_id: uuid.UUID) -> SiteInfo | None: ...

    def power_series(self, *, site_id: uuid.UUID, start: datetime, end: datetime) -> Iterator[PowerSample]:
        """The site's load and PV in ``[start, end)`` at 15-minute resolution, in time order;
        steps without a report are absent."""
        ...

    def bess_schedule_check(self, *, site_id: uuid.UUID, entries: Sequence[BessEntry]) -> ScheduleCheck:
        """The sites' schedule rules applied to a batch of one BESS ``activePowerkW`` command,
        without storing it."""
        ...

    def bess_schedule_apply(
        self, *, site_id: uuid.UUID, entries: Sequence[BessEntry], scenario_id: uuid.UUID, sent_by: str
    ) -> AppliedBatch:
        """Store the batch through the public API's validation and audit (source ``scenario``);
        raises :class:`~heatportal.services.ServiceError` with the rules' details when refused."""
        ...


class NoEnergySites(ServiceError):
    status = 503

    def __init__(self) -> None:
        super().__init__("The energy sites are not available in this installation.")


_providers: list[EnergySites] = []


def register(provider: EnergySites) -> None:
    """Make ``provider`` the energy sites the runner talks to (replacing any earlier one)."""
    _providers[:] = [provider]


def energy_sites() -> EnergySites:
    """The registered energy sites; :class:`NoEnergySites` (503) when no app provides them."""
    if not _providers:
        raise NoEnergySites()
    return _providers[0]
