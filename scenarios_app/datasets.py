"""Dataset schemas, their validation, and the built-in ``Master data`` load profile.

A dataset is a set of named tables (table groups) following a schema. The runner ships one
schema, ``load_profile``: an energy load profile with a table group ``profile`` whose columns
are ``timestamp`` (ISO 8601), ``load_kw``, ``pv_kw`` and ``price_eur_per_kwh``. Validation
reports :class:`Message` objects by level; any ``error`` makes a dataset unacceptable.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scenarios_app.models import Dataset
    from scenarios_app.parameters import Parameter

ERROR, WARNING, INFO = "error", "warning", "info"
MAX_MESSAGES = 100


@dataclass
class Message:
    level: str
    message: str
    table: str | None = None
    row: int | None = None
    column: str | None = None

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass
class Messages:
    """Validation messages, with a cap on how many are kept (the count of errors is exact)."""

    items: list[Message] = field(default_factory=list)
    error_count: int = 0
    dropped: int = 0

    def add(self, level: str, message: str, **where: Any) -> None:
        if level == ERROR:
            self.error_count += 1
        if len(self.items) < MAX_MESSAGES:
            self.items.append(Message(level, message, **where))
        else:
            self.dropped += 1

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def to_list(self) -> list[dict]:
        items = [message.to_dict() for message in self.items]
        if self.dropped:
            items.append({"level": INFO, "message": f"{self.dropped} more messages not shown."})
        return items

    def first_error(self) -> str:
        for message in self.items:
            if message.level == ERROR:
                where = f"{message.table}" if message.table else ""
                if message.row is not None:
                    where += f" row {message.row}"
                return f"{where}: {message.message}" if where else message.message
        return ""


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "datetime" | "float"
    min: float | None = None
    max: float | None = None
    unit: str = ""


@dataclass(frozen=True)
class TableGroup:
    name: str
    columns: tuple[Column, ...]
    required: bool = True
    max_rows: int = 200_000

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


@dataclass(frozen=True)
class Schema:
    name: str
    groups: tuple[TableGroup, ...]

    def group(self, name: str) -> TableGroup | None:
        return next((group for group in self.groups if group.name == name), None)


LOAD_PROFILE = Schema(
    "load_profile",
    (
        TableGroup(
            "profile",
            (
                Column("timestamp", "datetime"),
                Column("load_kw", "float", min=0, unit="kW"),
                Column("pv_kw", "float", min=0, unit="kW"),
                Column("price_eur_per_kwh", "float", min=-10, max=10, unit="EUR/kWh"),
            ),
        ),
    ),
)
SCHEMAS = {LOAD_PROFILE.name: LOAD_PROFILE}
DEFAULT_SCHEMA = LOAD_PROFILE.name


def _cell(column: Column, value: Any) -> tuple[Any, str | None]:
    """The stored form of one cell, or an error message."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "missing value"
    if column.type == "datetime":
        return _timestamp_cell(value)
    number, problem = _number(value)
    if number is None:
        return None, problem
    if column.min is not None and number < column.min:
        return None, f"{number:g} is below the minimum {column.min:g}"
    if column.max is not None and number > column.max:
        return None, f"{number:g} is above the maximum {column.max:g}"
    return number, None


def _timestamp_cell(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, datetime):
        return value.isoformat(), None
    if not isinstance(value, str):
        return None, f"not a timestamp: {str(value)[:40]!r}"
    try:
        return datetime.fromisoformat(value.strip()).isoformat(), None
    except ValueError:
        return None, f"not an ISO 8601 timestamp: {value[:40]!r}"


def _number(value: Any) -> tuple[float | None, str | None]:
    """The cell's finite number, or an error message."""
    if isinstance(value, bool):
        return None, f"not a number: {value!r}"
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None, f"not a number: {value[:40]!r}"
    else:
        return None, f"not a number: {str(value)[:40]!r}"
    if not math.isfinite(number):
        return None, f"not a finite number: {value!r}"
    return number, None


def validate_table(
    group: TableGroup, header: list[Any] | None, rows: Iterable[Iterable[Any]], messages: Messages
) -> dict[str, Any]:
    """Check a table (header and data rows, read lazily) against its group.

    Returns ``{"columns": [...], "rows": [[...], ...]}`` in the group's column order; messages
    say what is wrong (errors) or what was ignored (warnings).
    """
    table = group.name
    positions = _column_positions(group, header, messages)
    if positions is None:
        return {"columns": group.column_names, "rows": []}
    stored: list[list[Any]] = []
    timestamps = _Timestamps(table, messages)
    for number, raw in enumerate(rows, start=2):  # row 1 is the header
        cells = list(raw)
        if not any(cell not in (None, "") for cell in cells):
            continue  # blank line
        if len(stored) >= group.max_rows:
            messages.add(ERROR, f"more than {group.max_rows} rows", table=table, row=number)
            break
        values = _row_values(group, positions, cells, number, messages)
        if values is None:
            continue
        if group.columns[0].type == "datetime" and not timestamps.follows(values[0], number):
            continue
        stored.append(values)
    if not stored and messages.ok:
        messages.add(ERROR, "the table has no data rows", table=table)
    if len(timestamps.steps) > 1:
        messages.add(WARNING, "timestamps are not evenly spaced", table=table)
    if stored and messages.ok:
        messages.add(INFO, f"{len(stored)} rows", table=table)
    return {"columns": group.column_names, "rows": stored}


def _column_positions(group: TableGroup, header: list[Any] | None, messages: Messages) -> list[int] | None:
    """Where each of the group's columns is in the header; None (with the errors) when the
    header lacks one of them."""
    table = group.name
    names = [str(name).strip().lower() if name is not None else "" for name in (header or [])]
    if not names:
        messages.add(ERROR, "the table is empty (no header row)", table=table)
        return None
    missing = [column.name for column in group.columns if column.name not in names]
    for name in missing:
        messages.add(ERROR, f"required column '{name}' is missing", table=table, column=name)
    for name in names:
        if name and name not in group.column_names:
            messages.add(WARNING, f"column '{name}' is not in the schema and was ignored", table=table)
    if missing:
        return None
    return [names.index(column.name) for column in group.columns]


def _row_values(
    group: TableGroup, positions: list[int], cells: list[Any], number: int, messages: Messages
) -> list[Any] | None:
    """The row's values in the group's column order; None (with the errors) when a cell is bad."""
    values = []
    row_ok = True
    for column, position in zip(group.columns, positions, strict=True):
        value, problem = _cell(column, cells[position] if position < len(cells) else None)
        if problem:
            messages.add(ERROR, problem, table=group.name, row=number, column=column.name)
            row_ok = False
        values.append(value)
    return values if row_ok else None


class _Timestamps:
    """The timestamps of a table's rows so far: each must follow the previous one."""

    def __init__(self, table: str, messages: Messages):
        self.table = table
        self.messages = messages
        self.previous: datetime | None = None
        self.steps: set[timedelta] = set()

    def follows(self, timestamp: str, number: int) -> bool:
        """Whether the row ``number``'s timestamp follows the previous one (an error if not)."""
        moment = datetime.fromisoformat(timestamp)
        if self.previous is not None:
            try:
                step = moment - self.previous
            except TypeError:
                self.messages.add(
                    ERROR, "mixes timestamps with and without a time zone", table=self.table, row=number
                )
                return False
            if step <= timedelta(0):
                self.messages.add(
                    ERROR,
                    "timestamps must be strictly increasing",
                    table=self.table,
                    row=number,
                    column="timestamp",
                )
                return False
            self.steps.add(step)
        self.previous = moment
        return True


def validate_dataset_tables(schema: Schema, tables: Any, messages: Messages) -> dict:
    """Validate a whole ``tables`` mapping (the JSON form of a dataset)."""
    if not isinstance(tables, dict):
        messages.add(ERROR, "'tables' must be an object of table groups")
        return {}
    clean = {}
    for name, table in tables.items():
        group = schema.group(name)
        if group is None:
            messages.add(ERROR, f"no table group '{name}' in schema '{schema.name}'", table=name)
            continue
        if not isinstance(table, dict) or not isinstance(table.get("rows"), list):
            messages.add(ERROR, "a table is an object with 'columns' and 'rows'", table=name)
            continue
        columns = table.get("columns")
        rows = table["rows"]
        if not isinstance(columns, list):
            messages.add(ERROR, "'columns' must be a list of column names", table=name)
            continue
        if not all(isinstance(row, list) for row in rows):
            messages.add(ERROR, "each row must be a list of cells", table=name)
            continue
        clean[name] = validate_table(group, columns, rows, messages)
    for group in schema.groups:
        if group.required and group.name not in tables:
            messages.add(ERROR, f"required table group '{group.name}' is missing", table=group.name)
    return clean


# --- The JSON form of a dataset (``DataSource.to_json()``) -------------------------------------


class PayloadError(ValueError):
    """A dataset's JSON form that cannot be stored (the message says why)."""


def dataset_to_json(dataset: Dataset) -> dict[str, Any]:
    """``DataSource.to_json()``: what GET /data/{key} answers and POST /data/from-json takes."""
    return {
        "key": dataset.key,
        "schema": dataset.schema,
        "parameters": dataset.parameters,
        "tables": dataset.tables,
    }


def dataset_from_json(payload: Any) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """``(key, schema name, tables, parameters)`` of a dataset's JSON form, validated; raises
    :class:`PayloadError`."""
    if not isinstance(payload, dict):
        raise PayloadError("A dataset is a JSON object with 'key', 'schema' and 'tables'.")
    key = payload.get("key")
    if not isinstance(key, str) or not key.strip() or len(key) > 200:
        raise PayloadError("The dataset's 'key' must be a non-empty string of at most 200 characters.")
    schema_name = payload.get("schema", DEFAULT_SCHEMA)
    schema = SCHEMAS.get(schema_name) if isinstance(schema_name, str) else None
    if schema is None:
        raise PayloadError(f"Unknown dataset schema {schema_name!r}.")
    parameters = payload.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise PayloadError("The dataset's 'parameters' must be an object.")
    messages = Messages()
    tables = validate_dataset_tables(schema, payload.get("tables"), messages)
    if not messages.ok:
        raise PayloadError(f"Dataset '{key}' is not valid: {messages.first_error()}")
    return key, schema.name, tables, parameters


# --- Data parameters --------------------------------------------------------------------------


def data_parameter_schema() -> tuple[Parameter, ...]:
    """What ``data_params`` a scenario may pass for a load-profile dataset."""
    from scenarios_app.parameters import Parameter

    return (
        Parameter("load_scale", "float", default=1.0, min=0.0, max=10.0, label="Load scale"),
        Parameter("pv_scale", "float", default=1.0, min=0.0, max=10.0, label="PV scale"),
    )


# --- Master data ------------------------------------------------------------------------------

MASTER_DATA_KEY = "Master data"
MASTER_START = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday
STEP = timedelta(minutes=15)


def master_profile_rows(days: int = 7, seed: int = 2026) -> Iterator[list[Any]]:
    """A week of a commercial building with rooftop PV at 15-minute resolution, deterministic.

    Load: a 45 kW base, office hours on weekdays (up to ~155 kW, a lunchtime dip), lighter
    Saturday, noise. PV: 180 kWp with a daylight bell between 05:00 and 21:00 and a cloud factor
    per day and per quarter hour. Price: a time-of-use tariff with an evening peak.
    """
    rng = random.Random(seed)
    clouds = [0.55 + 0.45 * rng.random() for _ in range(days)]
    for index in range(days * 96):
        moment = MASTER_START + index * STEP
        day, hour = index // 96, (index % 96) / 4
        weekday = moment.weekday()
        load = 45.0
        if weekday < 5 and 6.5 <= hour < 19:
            ramp = min(1.0, (hour - 6.5) / 1.5, (19 - hour) / 1.5)
            load += 110.0 * ramp * (0.85 if 12 <= hour < 13 else 1.0)
        elif weekday == 5 and 8 <= hour < 14:
            load += 35.0
        load *= 0.93 + 0.14 * rng.random()
        pv = 0.0
        if 5 <= hour <= 21:
            sun = math.sin(math.pi * (hour - 5) / 16)
            pv = 180.0 * sun**1.5 * clouds[day] * (0.8 + 0.2 * rng.random())
        if 17 <= hour < 21:
            price = 0.34
        elif 7 <= hour < 17:
            price = 0.26 - (0.06 if 11 <= hour < 15 else 0.0)
        else:
            price = 0.17
        if weekday >= 5:
            price -= 0.03
        yield [moment.isoformat(), round(load, 2), round(pv, 2), round(price, 4)]


def master_tables() -> dict:
    group = LOAD_PROFILE.groups[0]
    return {group.name: {"columns": group.column_names, "rows": list(master_profile_rows())}}
