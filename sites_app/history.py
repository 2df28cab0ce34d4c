"""Telemetry history: its resolutions, and the points a site's stored reports make.

A point is ``{"t", "assets": {"grid": {"activePowerkW": ...}, "bess": {"activePowerkW": ...,
"soc": ..., "availableStorageCapacitykWh": ...}, ...}}`` with one entry per asset the site has.
At ``raw`` resolution each report is a point; otherwise a point is a bucket of ``resolution``
seconds aligned to the UTC epoch (so to the hour and the quarter hour), stamped with its start:
power is the mean of the reports in it that gave one, the BESS's state of charge and capacity are
the last values in it. A bucket with no report makes no point.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sites_app.models import ASSET_ORDER, POWER_COLUMNS, AssetType

RESOLUTIONS: dict[str, int | None] = {"raw": None, "5m": 300, "15m": 900, "1h": 3600}
STORAGE_COLUMNS = ("bess_soc_pcnt", "bess_available_kwh")
# What the history selector reads of each report, in this order.
COLUMNS: tuple[str, ...] = ("reported_at", *POWER_COLUMNS.values(), *STORAGE_COLUMNS)
_POWER_AT = {asset: COLUMNS.index(column) for asset, column in POWER_COLUMNS.items()}
_SOC_AT, _CAPACITY_AT = COLUMNS.index("bess_soc_pcnt"), COLUMNS.index("bess_available_kwh")

Row = Sequence[Any]  # a report's values in the order of COLUMNS


def bucket_start(moment: datetime, seconds: int) -> datetime:
    """The start of the ``seconds``-long bucket (aligned to the UTC epoch) holding ``moment``."""
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def asset_values(
    assets: Iterable[str], power: Mapping[str, float | None], soc: float | None, capacity: float | None
) -> dict[str, dict[str, float | None]]:
    """A point's ``assets``: each of the site's assets, in the document's order."""
    values: dict[str, dict[str, float | None]] = {}
    for asset in sorted(assets, key=ASSET_ORDER.__getitem__):
        values[asset] = {"activePowerkW": power.get(asset)}
        if asset == AssetType.BESS:
            values[asset]["soc"] = soc
            values[asset]["availableStorageCapacitykWh"] = capacity
    return values


@dataclass
class _Bucket:
    start: datetime
    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    soc: float | None = None
    capacity: float | None = None

    def add(self, row: Row, assets: Iterable[str]) -> None:
        for asset in assets:
            value = row[_POWER_AT[asset]]
            if value is not None:
                self.sums[asset] = self.sums.get(asset, 0.0) + value
                self.counts[asset] = self.counts.get(asset, 0) + 1
        self.soc = row[_SOC_AT] if row[_SOC_AT] is not None else self.soc
        self.capacity = row[_CAPACITY_AT] if row[_CAPACITY_AT] is not None else self.capacity

    def point(self, assets: Iterable[str]) -> dict[str, Any]:
        means = {asset: self.sums[asset] / self.counts[asset] for asset in self.sums}
        return {"t": self.start, "assets": asset_values(assets, means, self.soc, self.capacity)}


def points(rows: Iterable[Row], *, assets: Sequence[str], resolution: str) -> Iterator[dict[str, Any]]:
    """The points of ``rows`` (reports in time order, as :data:`COLUMNS`) for a site that has
    ``assets``, at ``resolution`` (a key of :data:`RESOLUTIONS`)."""
    seconds = RESOLUTIONS[resolution]
    if seconds is None:
        for row in rows:
            power = {asset: row[_POWER_AT[asset]] for asset in assets}
            yield {
                "t": row[0],
                "assets": asset_values(assets, power, row[_SOC_AT], row[_CAPACITY_AT]),
            }
        return
    bucket: _Bucket | None = None
    for row in rows:
        start = bucket_start(row[0], seconds)
        if bucket is None or start != bucket.start:
            if bucket is not None:
                yield bucket.point(assets)
            bucket = _Bucket(start)
        bucket.add(row, assets)
    if bucket is not None:
        yield bucket.point(assets)


def report_row(reported_at: datetime, values: dict[str, dict[str, float]]) -> dict[str, object]:
    """A history row's fields from one report's values by asset (``TelemetryIn.values()``)."""
    row: dict[str, object] = {"reported_at": reported_at}
    for asset, fields in values.items():
        if asset in POWER_COLUMNS and "activePowerkW" in fields:
            row[POWER_COLUMNS[asset]] = fields["activePowerkW"]
        if asset == AssetType.BESS:
            row["bess_soc_pcnt"] = fields.get("soc")
            row["bess_available_kwh"] = fields.get("availableStorageCapacitykWh")
    return row


def month_start(moment: datetime, months: int = 0) -> datetime:
    """The first instant (UTC) of the month ``months`` after the one holding ``moment``."""
    month = moment.year * 12 + moment.month - 1 + months
    return datetime(month // 12, month % 12 + 1, 1, tzinfo=UTC)
