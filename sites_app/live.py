"""What the live site page shows: each asset's power as a flow to or from the site (direction,
kW, in words as well as arrows), whether the values are current or stale, and the ranges of its
history chart.

Signs follow the public API (document 002) and the scenario runner: grid positive = import,
negative = export; BESS positive = discharge (into the site), negative = charge; solar and genset
positive = production; load, EV chargers and heat pump positive = consumption.
The page draws the site in the middle: sources on its left (grid, solar, genset), consumers on
its right (load, EV, heat pump), the BESS below it, and each arrow points the way power flows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from heatportal.templatetags.heat_format import kw, number_text, percent, when_text
from sites_app.api.outputs import asset as asset_body
from sites_app.api.outputs import format_time, is_online
from sites_app.models import ASSET_ORDER, Asset, AssetType

IDLE_BELOW_KW = 0.05  # shown as 0.0 kW: neither way


@dataclass(frozen=True)
class Side:
    """Where an asset sits around the site, and how its positive and negative power read."""

    place: str  # "source" (left), "consumer" (right), "storage" (below)
    positive: tuple[str, str]  # (direction, words) for positive power
    negative: tuple[str, str]
    # Arrows for power flowing into the site, and out of it, at this place.
    inward: str
    outward: str


_SOURCE = {"inward": "→", "outward": "←", "place": "source"}
_CONSUMER = {"inward": "←", "outward": "→", "place": "consumer"}
SIDES: dict[str, Side] = {
    AssetType.GRID: Side(positive=("import", "importing"), negative=("export", "exporting"), **_SOURCE),
    AssetType.SOLAR: Side(positive=("produce", "producing"), negative=("consume", "consuming"), **_SOURCE),
    AssetType.GENSET: Side(positive=("produce", "producing"), negative=("consume", "consuming"), **_SOURCE),
    AssetType.BESS: Side(
        place="storage",
        positive=("discharge", "discharging"),
        negative=("charge", "charging"),
        inward="↑",
        outward="↓",
    ),
    AssetType.LOAD: Side(positive=("consume", "consuming"), negative=("produce", "feeding in"), **_CONSUMER),
    AssetType.EV: Side(positive=("charge", "charging"), negative=("discharge", "discharging"), **_CONSUMER),
    AssetType.HEATPUMP: Side(
        positive=("consume", "consuming"), negative=("produce", "feeding in"), **_CONSUMER
    ),
}
# The power that flows into the site for positive values (sources, storage); out of it otherwise.
_POSITIVE_INWARD = {"source", "storage"}


def flow(asset: Asset) -> dict[str, Any]:
    """One asset's card of the power-flow view: its direction (a code and words), the arrow,
    and its power as text (the size; the words give the sign)."""
    side = SIDES[asset.type]
    power = asset.active_power_kw
    if power is None:
        direction, words, arrow = "unknown", "no value reported", ""
    elif abs(power) < IDLE_BELOW_KW:
        direction, words, arrow = "idle", "idle", ""
    else:
        direction, words = side.positive if power > 0 else side.negative
        inward = (power > 0) == (side.place in _POSITIVE_INWARD)
        arrow = side.inward if inward else side.outward
    return {
        "type": asset.type,
        "label": asset.get_type_display(),
        "place": side.place,
        "direction": direction,
        "directionText": words,
        "arrow": arrow,
        "flowText": kw(abs(power)) if power is not None else "—",
    }


def _texts(asset: Asset) -> dict[str, str]:
    """The asset's values as the page's assets table writes them."""
    texts = {"power": number_text(asset.active_power_kw, 1)}
    if asset.type == AssetType.BESS:
        texts["soc"] = percent(asset.soc_pcnt)
        texts["capacity"] = (
            f"{number_text(asset.available_capacity_kwh, 1)} / {number_text(asset.energy_capacity_kwh, 1)}"
        )
    return texts


def live_state(
    *, site_id: Any, reported_at: datetime | None, assets: Iterable[Asset], now: datetime
) -> dict[str, Any]:
    """The body of the site page's live endpoint: the public API's asset values, each asset's
    flow and texts, and whether they are stale (the site is offline: no report for
    ``SITE_OFFLINE_AFTER`` seconds, or none ever)."""
    ordered = sorted(assets, key=lambda item: ASSET_ORDER.get(item.type, 99))
    online = is_online(reported_at, now=now)
    return {
        "siteId": str(site_id),
        "now": format_time(now),
        "isOnline": online,
        "stale": not online,
        "reportedAt": format_time(reported_at),
        "reportedAtText": when_text(reported_at, "s") or "never",
        "assets": [{**asset_body(item), **flow(item), "text": _texts(item)} for item in ordered],
    }


# --- The history chart's ranges --------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    key: str
    label: str
    length: timedelta
    resolution: str  # a key of sites_app.history.RESOLUTIONS: about a hundred points or fewer


RANGES: dict[str, Range] = {
    r.key: r
    for r in (
        Range("6h", "6 hours", timedelta(hours=6), "5m"),
        Range("24h", "24 hours", timedelta(hours=24), "15m"),
        Range("7d", "7 days", timedelta(days=7), "1h"),
    )
}
DEFAULT_RANGE = "24h"
