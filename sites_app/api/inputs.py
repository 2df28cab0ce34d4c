"""What the sites APIs accept: Pydantic v2 input models of the request bodies.

The models decide the *shape* of a body (an object with a ``schedules`` list of 1 to 10
commands; each command one of the five documented asset/type pairs with a list of entries;
each entry two ISO 8601 times with a time zone and a number; telemetry's ``reportedAt`` and
its per-asset numbers). The rules that need the site or the clock (the site's assets and
their rated limits, entry order and overlaps, BESS exclusivity, reports from the future)
stay in :mod:`sites_app.schedules` and :mod:`sites_app.telemetry`; the services validate
through these models when a caller hands them plain dicts (the portal, the demo data, the
scenario runner's apply).

Document 002 answers a refused body as ``{"error": "validation_error", "message", "details"}``
where each item of ``details`` names the offending command, entry and field
(docs/sites_app.md). Pydantic's own error list has another shape, so :meth:`SitesInput.parse`
turns each Pydantic error into that item, with the same messages the hand-written checks
gave, and raises a :class:`~heatportal.services.ServiceError` that
:func:`heatportal.api.errors.error_for` renders like any other.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self, cast

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WrapValidator,
    model_validator,
    with_config,
)
from pydantic_core import ErrorDetails, PydanticCustomError
from typing_extensions import TypedDict

from heatportal.api.input import is_number
from heatportal.services import ServiceError
from sites_app.models import SCHEDULE_PAIRS

# --- Values -----------------------------------------------------------------------------------


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 time with a time zone, in UTC; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None or timezone.is_naive(parsed):
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC, 9999-12-31 west of it
        return None


def _timestamp(value: Any) -> datetime:
    parsed = parse_timestamp(value)
    if parsed is None:
        raise PydanticCustomError("timestamp", "not an ISO 8601 date-time with a time zone")
    return parsed


def _number(value: Any, info: ValidationInfo) -> float:
    if not is_number(value):
        raise PydanticCustomError("number", "{field} must be a number.", {"field": info.field_name})
    return float(value)


Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
Number = Annotated[float, BeforeValidator(_number)]


def _at_most_entries(value: Any, handler):
    """The setting's limit is looked at before the entries are: a command over it is refused
    as a whole, without a problem per entry."""
    limit = settings.SITES_MAX_ENTRIES_PER_COMMAND
    if isinstance(value, list) and len(value) > limit:
        raise PydanticCustomError(
            "too_many_entries", "A command holds at most {limit} entries.", {"limit": limit}
        )
    return handler(value)


# --- Problems, in document 002's ``details`` shape --------------------------------------------


class Problems:
    """Collects what is wrong with a body, each problem one ``details`` item naming its command,
    entry and field (the keys in the order the API has always written them)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(
        self, message: str, *, command: int | None = None, entry: int | None = None, **extra: Any
    ) -> None:
        item: dict[str, Any] = {}
        if command is not None:
            item["command"] = command
        item.update(extra)
        if entry is not None:
            item["entry"] = entry
        item["message"] = message
        self.items.append(item)


class SitesInput(BaseModel):
    """Base of the sites input models: :meth:`parse` answers with the documented error body."""

    model_config = ConfigDict(extra="ignore")

    @classmethod
    def parse(cls, data: Any) -> Self:
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise cls.refusal(error.errors(include_url=False, include_context=True), data) from None

    @classmethod
    def refusal(cls, errors: list[ErrorDetails], data: Any) -> ServiceError:
        raise NotImplementedError


def _get(data: Any, *path: str | int) -> Any:
    """``data[path[0]][path[1]]...`` of a raw body, or None where it has no such item."""
    for key in path:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            return None
    return data


# --- POST /sites/{siteId}/schedules -----------------------------------------------------------

BATCH_SIZE = "Expected a list of 1 to 10 schedule commands."
SUPPORTED = ", ".join(f"{asset} + {kind}" for asset, kind in SCHEDULE_PAIRS)


class ScheduleEntryIn(BaseModel):
    """One time range of a command. ``startAt < endAt`` and the value's range are the site's
    rules (``sites_app.schedules``), so that one refusal names them together with the other commands'."""

    model_config = ConfigDict(extra="ignore")

    startAt: Timestamp
    endAt: Timestamp
    value: Number


class ScheduleCommandIn(BaseModel):
    """One of the five documented asset/type pairs and its entries (empty: clear)."""

    model_config = ConfigDict(extra="ignore")

    asset: str
    type: str
    entries: Annotated[list[ScheduleEntryIn], WrapValidator(_at_most_entries)]

    @model_validator(mode="wrap")
    @classmethod
    def _documented_pair(cls, data: Any, handler):
        # The pair first: a command for an unsupported pair is one problem, its entries unread.
        pair = (data.get("asset"), data.get("type")) if isinstance(data, dict) else None
        if pair is not None and not (all(isinstance(part, str) for part in pair) and pair in _PAIRS):
            raise PydanticCustomError(
                "unsupported_pair", f"Unsupported asset/type combination. Supported: {SUPPORTED}."
            )
        return handler(data)

    @property
    def pair(self) -> tuple[str, str]:
        return (self.asset, self.type)


_PAIRS = frozenset((str(asset), str(kind)) for asset, kind in SCHEDULE_PAIRS)


class ScheduleBatchIn(SitesInput):
    """The body of ``POST /sites/{siteId}/schedules``: 1 to 10 commands."""

    schedules: Annotated[list[ScheduleCommandIn], Field(min_length=1, max_length=10)]

    # Pydantic's error type at a command or entry → the message the API gives.
    ENTRY_SHAPE: ClassVar[str] = "An entry must be an object with startAt, endAt and value."
    COMMAND_SHAPE: ClassVar[str] = "A command must be an object with asset, type and entries."
    ENTRIES_SHAPE: ClassVar[str] = "entries must be a list (empty to clear the schedule)."

    @classmethod
    def refusal(cls, errors: list[ErrorDetails], data: Any) -> ServiceError:
        first = errors[0]
        if first["loc"] in ((), ("schedules",)):  # the batch as a whole: one problem
            return cls._batch_refusal(first, data)
        problems = Problems()
        for error in errors:
            _, position, *rest = error["loc"]
            index = int(position)  # the command's place in the schedules list
            raw = _get(data, "schedules", index)
            where = {"asset": _get(raw, "asset"), "type": _get(raw, "type")}
            if not rest:  # the command itself
                message = cls.COMMAND_SHAPE if error["type"] == "model_type" else error["msg"]
                problems.add(message, command=index, **({} if error["type"] == "model_type" else where))
            elif len(rest) == 1:  # entries: missing, not a list, too many
                message = error["msg"] if error["type"] == "too_many_entries" else cls.ENTRIES_SHAPE
                problems.add(message, command=index, **where)
            else:
                cls._entry_problem(problems, error, rest[1:], command=index, where=where)
        return schedule_refusal(problems.items)

    @classmethod
    def _entry_problem(cls, problems: Problems, error: ErrorDetails, loc: list, *, command: int, where):
        # The arguments in the order the hand-written checks passed them: the keys keep their order.
        entry, *field = loc
        if not field:
            problems.add(cls.ENTRY_SHAPE, entry=entry, command=command, **where)
            return
        name = field[0]
        if error["type"] == "missing":
            message = f"{name} is required."
        elif name in ("startAt", "endAt"):
            message = f"{name} must be an ISO 8601 date-time with a time zone, e.g. 2026-06-01T08:00:00Z."
        else:
            message = error["msg"]
        problems.add(message, entry=entry, field=name, command=command, **where)

    @classmethod
    def _batch_refusal(cls, error: ErrorDetails, data: Any) -> ServiceError:
        details = [{"field": "schedules", "message": BATCH_SIZE}]
        if error["loc"] == () or error["type"] == "missing":
            return ServiceError(
                'The body must be a JSON object with a "schedules" list.',
                details=[{"field": "schedules", "message": "This field is required."}],
            )
        if error["type"] in ("too_short", "too_long"):
            count = len(data["schedules"])
            return ServiceError(
                f"A batch holds 1 to 10 schedule commands; this one has {count}.", details=details
            )
        return ServiceError("schedules must be a list of schedule commands.", details=details)


def schedule_refusal(items: list[dict[str, Any]]) -> ServiceError:
    count = len(items)
    return ServiceError(
        f"The schedule was rejected: {count} problem{'s' if count > 1 else ''} found.", details=items
    )


# --- POST /api/v1/gateway/telemetry -----------------------------------------------------------


# Telemetry values are checked by Pydantic's own (compiled) validators, not Python callables: a
# batch holds up to thousands of them. Strict: a number, never a string, a boolean or null.
# The messages the API gives for their errors: TELEMETRY_MESSAGES.
StrictNumber = Annotated[float, Field(strict=True, allow_inf_nan=False)]
TELEMETRY_MESSAGES = {
    "soc": "soc must lie between 0 and 100.",
    "availableStorageCapacitykWh": "availableStorageCapacitykWh must not be negative.",
}
_RANGE_ERRORS = ("greater_than_equal", "less_than_equal")


@with_config(ConfigDict(extra="forbid"))
class AssetTelemetryIn(TypedDict, total=False):
    """What a gateway reports of one asset (only what it sent: an explicit null is refused);
    unknown fields are refused. A plain dict, not a model: a batch holds thousands. Whether the
    asset has ``soc`` and a capacity (BESS only) is the site's rule (``sites_app.telemetry``)."""

    activePowerkW: StrictNumber
    soc: Annotated[StrictNumber, Field(ge=0, le=100)]
    availableStorageCapacitykWh: Annotated[StrictNumber, Field(ge=0)]


class TelemetryIn(SitesInput):
    """The body of ``POST /api/v1/gateway/telemetry``; other top-level keys are ignored."""

    reportedAt: Timestamp
    assets: dict[str, AssetTelemetryIn]

    @classmethod
    def refusal(cls, errors: list[ErrorDetails], data: Any) -> ServiceError:
        if errors[0]["loc"] == ():
            return ServiceError("Telemetry must be a JSON object with reportedAt and assets.")
        problems = Problems()
        for error in errors:
            cls.problem(problems, error, tuple(error["loc"]))
        return telemetry_refusal(problems.items)

    @classmethod
    def problem(cls, problems: Problems, error: ErrorDetails, loc: tuple, **where: Any) -> None:
        """The ``details`` item of one Pydantic error at ``loc`` inside a report (``where``:
        which report of a batch)."""
        field, *rest = loc
        if field == "reportedAt":
            problems.add(
                "reportedAt is required: an ISO 8601 date-time with a time zone.", **where, field="reportedAt"
            )
        elif not rest:
            problems.add("assets must be an object keyed by asset type.", **where, field="assets")
        elif len(rest) == 1:
            problems.add("Asset values must be an object.", **where, asset=rest[0])
        elif error["type"] == "extra_forbidden":
            problems.add(
                f"Unknown field {rest[1]!r} for a {rest[0]} asset.", **where, asset=rest[0], field=rest[1]
            )
        else:
            name = str(rest[1])
            message = (
                TELEMETRY_MESSAGES[name] if error["type"] in _RANGE_ERRORS else f"{name} must be a number."
            )
            problems.add(message, **where, asset=rest[0], field=name)

    def values(self) -> dict[str, dict[str, float]]:
        """Each named asset's reported values by wire name (only those sent)."""
        return {name: cast(dict[str, float], dict(values)) for name, values in self.assets.items()}


def telemetry_refusal(items: list[dict[str, Any]]) -> ServiceError:
    return ServiceError("The telemetry was refused.", details=items)


def _at_most_reports(value: Any, handler):
    """The batch's size is looked at before its reports are: a batch over the limit is refused
    as a whole, unparsed."""
    limit = settings.SITES_TELEMETRY_MAX_BATCH
    if isinstance(value, list) and not 1 <= len(value) <= limit:
        raise PydanticCustomError(
            "batch_size",
            "A batch holds 1 to {limit} reports; this one has {count}.",
            {"limit": f"{limit:,}", "count": f"{len(value):,}"},
        )
    return handler(value)


class TelemetryBatchIn(SitesInput):
    """The batch form of ``POST /api/v1/gateway/telemetry``: ``{"reports": [report, ...]}``,
    1 to ``SITES_TELEMETRY_MAX_BATCH`` reports, each as :class:`TelemetryIn`. A refusal names
    each problem's report by its index in ``reports``."""

    reports: Annotated[list[TelemetryIn], WrapValidator(_at_most_reports)]

    REPORT_SHAPE: ClassVar[str] = "A report must be a JSON object with reportedAt and assets."

    @classmethod
    def refusal(cls, errors: list[ErrorDetails], data: Any) -> ServiceError:
        first = errors[0]
        if first["loc"] in ((), ("reports",)):  # the batch as a whole: one problem
            message = first["msg"] if first["type"] == "batch_size" else cls.batch_shape(first)
            return telemetry_refusal([{"field": "reports", "message": message}])
        problems = Problems()
        for error in errors:
            _, position, *rest = error["loc"]
            if not rest:  # the report itself
                problems.add(cls.REPORT_SHAPE, report=int(position))
            else:
                TelemetryIn.problem(problems, error, tuple(rest), report=int(position))
        return telemetry_refusal(problems.items)

    @staticmethod
    def batch_shape(error: ErrorDetails) -> str:
        if error["loc"] == ():
            return 'The body must be a JSON object with a "reports" list, or one report.'
        return "reports must be a list of telemetry reports."

    @property
    def newest(self) -> TelemetryIn:
        """The report with the latest ``reportedAt`` (of equal times, the last sent)."""
        return max(reversed(self.reports), key=lambda report: report.reportedAt)


# --- POST /api/v1/gateway/schedules/ack -------------------------------------------------------


class ScheduleAckIn(SitesInput):
    """The body of ``POST /api/v1/gateway/schedules/ack``: which batch the gateway applied, and
    when."""

    batchId: uuid.UUID
    appliedAt: Timestamp

    MESSAGES: ClassVar[dict[str, str]] = {
        "batchId": "batchId is required: the batchId of a schedule from GET /api/v1/gateway/schedules.",
        "appliedAt": "appliedAt is required: an ISO 8601 date-time with a time zone.",
    }

    @classmethod
    def refusal(cls, errors: list[ErrorDetails], data: Any) -> ServiceError:
        if errors[0]["loc"] == ():
            return ServiceError("The acknowledgement must be a JSON object with batchId and appliedAt.")
        fields = dict.fromkeys(str(error["loc"][0]) for error in errors)
        return ServiceError(
            "The acknowledgement was refused.",
            details=[{"field": name, "message": cls.MESSAGES[name]} for name in fields],
        )
