"""``GET /sites/{siteId}/telemetry`` (issue 14, an extension of document 002's public API): its
query parameters, and its bodies as JSON and as streamed CSV.

The points come from ``selectors.telemetry_points`` (see ``sites_app.history``); this module
reads the query and writes the points in the public API's formats (times in UTC with a ``Z``,
whole numbers as integers: ``sites_app.api.outputs``). A refused query answers like a refused
body: ``{"error": "validation_error", "message", "details": [{"field", "message"}]}``, every
problem at once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.http import StreamingHttpResponse

from heatportal.services import ServiceError
from sites_app.api.inputs import parse_timestamp
from sites_app.api.outputs import format_time, number
from sites_app.history import RESOLUTIONS
from sites_app.models import ASSET_ORDER, AssetType

DEFAULT_RESOLUTION = "15m"
DEFAULT_SPAN = timedelta(hours=24)
FORMATS = ("json", "csv")
CSV_TYPE = "text/csv"
# Content types the endpoint answers, the default first (``Accept`` chooses between them).
MEDIA_TYPES = ["application/json", CSV_TYPE]
STORAGE_FIELDS = ("soc", "availableStorageCapacitykWh")
CSV_LINES_PER_CHUNK = 500
EXAMPLE_TIME = "2026-06-01T00:00:00Z"
# An unencoded "+02:00" in a query string arrives as " 02:00".
_SPACED_OFFSET = re.compile(r"^(.*\d) (\d{2}(?::?\d{2})?)$")


@dataclass(frozen=True)
class HistoryQuery:
    """What the client asked for: ``[start, end)`` at ``resolution``, as CSV or JSON."""

    start: datetime
    end: datetime
    resolution: str
    csv: bool


def max_range(resolution: str) -> timedelta:
    """The longest range answered at ``resolution`` (settings ``SITES_HISTORY_MAX_DAYS_RAW``
    and ``SITES_HISTORY_MAX_DAYS``)."""
    if resolution == "raw":
        return timedelta(days=settings.SITES_HISTORY_MAX_DAYS_RAW)
    return timedelta(days=settings.SITES_HISTORY_MAX_DAYS)


def _time(params: Mapping[str, str], name: str, problems: list[dict[str, str]]) -> datetime | None:
    value = params.get(name)
    if value is None:
        return None
    parsed = parse_timestamp(_SPACED_OFFSET.sub(r"\1+\2", value))
    if parsed is None:
        message = f"{name} must be an ISO 8601 date-time with a time zone, e.g. {EXAMPLE_TIME}."
        problems.append({"field": name, "message": message})
    return parsed


def _choice(
    params: Mapping[str, str], name: str, choices: Iterable[str], problems: list[dict[str, str]]
) -> str | None:
    value = params.get(name)
    if value is not None and value not in choices:
        problems.append({"field": name, "message": f"{name} must be one of {', '.join(choices)}."})
        return None
    return value


def history_query(params: Mapping[str, str], *, preferred_type: str | None, now: datetime) -> HistoryQuery:
    """The query string's ``from``, ``to``, ``resolution`` and ``format`` (an empty value is a
    bad one, as the schema says). ``to`` defaults to ``now`` (whole seconds), ``from`` to 24
    hours before ``to``, ``resolution`` to 15m; ``format`` wins over ``preferred_type`` (the
    ``Accept`` header's choice among :data:`MEDIA_TYPES`). Raises a 400 :class:`ServiceError`
    naming each problem."""
    problems: list[dict[str, str]] = []
    start, end = _time(params, "from", problems), _time(params, "to", problems)
    resolution = _choice(params, "resolution", RESOLUTIONS, problems) or DEFAULT_RESOLUTION
    chosen = _choice(params, "format", FORMATS, problems)
    if problems:
        raise refusal(problems)
    end = end or now.replace(microsecond=0)
    start = start or _day_before(end)
    _check_range(start, end, resolution)
    csv = chosen == "csv" if chosen else preferred_type == CSV_TYPE
    return HistoryQuery(start=start, end=end, resolution=resolution, csv=csv)


def _day_before(end: datetime) -> datetime:
    """``end`` minus :data:`DEFAULT_SPAN`, or the first representable time (``to`` in year 1)."""
    earliest = datetime.min.replace(tzinfo=UTC)
    return end - DEFAULT_SPAN if end - earliest > DEFAULT_SPAN else earliest


def refusal(problems: list[dict[str, str]]) -> ServiceError:
    """A 400 naming the first problem in its message and each one in ``details``."""
    first = problems[0]
    return ServiceError(f"{first['field']}: {first['message']}", details=problems)


def _check_range(start: datetime, end: datetime, resolution: str) -> None:
    """The range (checked once its ends and resolution are known) is not empty, nor longer
    than :func:`max_range`."""
    if start >= end:
        raise refusal([{"field": "to", "message": "to must be later than from."}])
    longest = max_range(resolution)
    if end - start > longest:
        message = (
            f"The range may span at most {longest.days} days at {resolution} resolution "
            f"({settings.SITES_HISTORY_MAX_DAYS_RAW} days at raw, "
            f"{settings.SITES_HISTORY_MAX_DAYS} days at 5m, 15m and 1h)."
        )
        raise refusal([{"field": "to", "message": message}])


# --- JSON ---------------------------------------------------------------------------------------


def point_body(point: Mapping[str, Any]) -> dict[str, Any]:
    """One point as the API writes it: ``{"t", "assets": {"grid": {"activePowerkW"}, ...}}``."""
    return {
        "t": format_time(point["t"]),
        "assets": {
            asset: {name: number(value) for name, value in values.items()}
            for asset, values in point["assets"].items()
        },
    }


def history_body(site_id: uuid.UUID, query: HistoryQuery, points: Iterable[Mapping[str, Any]]) -> bytes:
    """``{"siteId", "from", "to", "resolution", "points": [...]}`` as JSON bytes, each point
    serialised as it is read (a week of raw reports holds no dict per point in memory)."""
    head = orjson.dumps(
        {
            "siteId": str(site_id),
            "from": format_time(query.start),
            "to": format_time(query.end),
            "resolution": query.resolution,
        }
    )
    parts = b",".join(orjson.dumps(point_body(point)) for point in points)
    return head[:-1] + b',"points":[' + parts + b"]}"


# --- CSV ----------------------------------------------------------------------------------------


def csv_columns(assets: Iterable[str]) -> list[tuple[str, str]]:
    """(asset, field) of each CSV column after ``t``: every asset's power in the document's
    order, then the BESS's state of charge and available capacity."""
    ordered = sorted(assets, key=ASSET_ORDER.__getitem__)
    columns = [(asset, "activePowerkW") for asset in ordered]
    if AssetType.BESS in ordered:
        columns += [(AssetType.BESS, field) for field in STORAGE_FIELDS]
    return columns


def _cell(value: float | None) -> str:
    return "" if value is None else str(number(value))


def csv_chunks(
    points: Iterable[Mapping[str, Any]], *, site_assets: Callable[[], Iterable[str]]
) -> Iterator[str]:
    """The CSV text (RFC 4180 lines) in chunks of :data:`CSV_LINES_PER_CHUNK` lines: a header
    ``t,grid_activePowerkW,...,bess_soc,bess_availableStorageCapacitykWh``, then one line per
    point. Every point names each of the site's assets, so the first one gives the columns;
    ``site_assets`` (a query) is called only when there is none."""
    stream = iter(points)
    first = next(stream, None)
    columns = csv_columns(first["assets"] if first is not None else site_assets())
    lines = [",".join(["t", *(f"{asset}_{field}" for asset, field in columns)])]
    point = first
    while point is not None:
        values = point["assets"]
        lines.append(",".join([format_time(point["t"]) or "", *(_cell(values[a][f]) for a, f in columns)]))
        if len(lines) >= CSV_LINES_PER_CHUNK:
            yield "\r\n".join(lines) + "\r\n"
            lines = []
        point = next(stream, None)
    if lines:
        yield "\r\n".join(lines) + "\r\n"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def csv_response(
    site_id: uuid.UUID,
    query: HistoryQuery,
    points: Iterable[Mapping[str, Any]],
    *,
    site_assets: Callable[[], Iterable[str]],
) -> StreamingHttpResponse:
    """The history as a streamed CSV download, named for the site, range and resolution."""
    response = StreamingHttpResponse(
        csv_chunks(points, site_assets=site_assets), content_type=f"{CSV_TYPE}; charset=utf-8"
    )
    filename = f"telemetry-{site_id}-{_stamp(query.start)}-{_stamp(query.end)}-{query.resolution}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Vary"] = "Accept"
    return response
