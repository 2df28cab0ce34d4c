"""What every API accepts as input: one place decides it for all families (issue 10).

Three checks, each raising :class:`BadInput` that names what it refused:

- :func:`parse_json` reads every JSON body (DRF's parser, the crowd views, the runner's
  ``from-json``): nesting at most ``MAX_JSON_DEPTH`` deep, no NUL and no lone surrogate in any
  string (keys too), integers within the signed 64-bit range, only finite numbers (``NaN``,
  ``Infinity`` and literals such as ``1e400`` that overflow to infinity are refused).
- :func:`text_problem` checks text from the URL and the headers; the middleware in
  :mod:`heatportal.api.middleware` applies it to every request's path, query and headers.
- :func:`check_columns` checks the values of a model instance against its columns before it is
  saved (a ``pre_save`` receiver for every model of the project): strings within
  ``max_length`` and free of NUL and lone surrogates, integers within their column's range,
  floats finite, JSON documents as :func:`parse_json` would accept them. PostgreSQL refuses
  these with a ``DataError`` (SQLite mostly stores them), so the check gives the same 400 on
  both instead of a 500 on one.

The ranges are the column types' own (PostgreSQL's), taken from Django's base database
operations, so that SQLite, which has 64-bit integers everywhere, refuses the same values.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from itertools import accumulate
from typing import Any

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

MAX_JSON_DEPTH = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT64_MESSAGE = "integers must fit in 64 bits (-2^63 to 2^63-1)"
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadInput(ValueError):
    """An input value that no API accepts. ``loc`` is where it was found (JSON keys and list
    indexes of a body, or a model field name), ``kind`` a Pydantic-style error type that the
    runner's 422 bodies use."""

    def __init__(self, message: str, *, loc: tuple[str | int, ...] = (), kind: str = "value_error"):
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.kind = kind

    @property
    def field(self) -> str:
        return ".".join(str(part) for part in self.loc)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.loc else self.message


def is_number(value: Any) -> bool:
    """A finite JSON number: not a boolean, not a string of digits, not null, not NaN or infinity."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def has_text_problem(value: str) -> bool:
    """Whether ``value`` holds a character that no API stores (:func:`text_problem` says which)."""
    return "\x00" in value or _SURROGATE.search(value) is not None


def text_problem(value: str) -> tuple[str, str] | None:
    """``(kind, message)`` when ``value`` holds a character that no API stores, else None."""
    if "\x00" in value:
        return "string_pattern_mismatch", "must not contain NUL characters"
    if _SURROGATE.search(value):
        return "string_unicode", "must not contain unpaired surrogate characters"
    return None


def _refuse_constant(name: str) -> float:
    raise BadInput(f"{name} is not a valid JSON number", kind="finite_number")


# A decoded string can only hold a NUL or a lone surrogate if the text has a \u0000 or
# \ud800-\udfff escape (a raw NUL is malformed JSON, and UTF-8 holds no surrogates): without
# one, the strings of a document need no look.
_TEXT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of a JSON text nest (strings ignored), without
    decoding it: the decoder itself recurses, and would fail past ~1000 levels."""
    depth = _bracket_depth(text)
    if depth > MAX_JSON_DEPTH:  # brackets inside strings count too: count again without them
        depth = _bracket_depth(_STRING.sub("", text))
    return depth


def _bracket_depth(text: str) -> int:
    return max(accumulate(map(_BRACKET_STEP.__getitem__, _NOT_BRACKET.sub("", text))), default=0)


def parse_json(raw: bytes | str) -> Any:
    """The value of a JSON document, or :class:`BadInput` (also for malformed JSON)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8")
        except UnicodeDecodeError as error:
            raise BadInput(f"the body is not UTF-8: {error.reason}", kind="json_invalid") from None
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise _too_deep()
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except BadInput:
        raise  # NaN or Infinity: the decoder does not say where it was, the message will do
    except RecursionError:
        raise _too_deep() from None
    except ValueError as error:
        if "integer string conversion" in str(error):  # more than 4300 digits
            raise BadInput(INT64_MESSAGE, kind="int_parsing_size") from None
        raise BadInput(f"malformed JSON: {error}", kind="json_invalid") from None
    check_json_value(value, strings=_TEXT_ESCAPE.search(raw) is not None)
    return value


def _too_deep() -> BadInput:
    return BadInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", kind="json_invalid")


def check_json_value(value: Any, loc: tuple[str | int, ...] = (), *, strings: bool = True) -> None:
    """BadInput when a decoded JSON value is nested too deeply or holds a string that no API
    stores (keys included; not looked at with ``strings=False``), an integer beyond 64 bits or
    a number that is not finite."""
    _check_leaf(value, loc, strings)
    # Containers to look into, each with the path to it as a linked list ``(parent, key)``: the
    # path is only spelled out when something is refused. Bodies can be megabytes of numbers.
    pending: list[tuple[Any, Any, int]] = [(value, None, 0)]
    while pending:
        container, node, depth = pending.pop()
        items: Iterable[tuple[Any, Any]]
        if isinstance(container, dict):
            items = container.items()
        elif isinstance(container, (list, tuple)):
            items = enumerate(container)
        else:
            continue
        if depth >= MAX_JSON_DEPTH:
            raise _too_deep()
        for key, child in items:
            if strings and type(key) is str and text_problem(key) is not None:
                _check_text(key, (*loc, *_spelled(node)), what="a key")  # not the key itself
            kind = type(child)
            if (
                (kind is float and math.isfinite(child))
                or (kind is int and INT64_MIN <= child <= INT64_MAX)
                or (kind is str and (not strings or text_problem(child) is None))
                or kind is bool
                or child is None
            ):
                continue
            if kind is dict or kind is list or kind is tuple:
                pending.append((child, (node, key), depth + 1))
            else:
                _check_leaf(child, (*loc, *_spelled(node), key), strings)


def _spelled(node: Any) -> tuple[str | int, ...]:
    keys: list[str | int] = []
    while node is not None:
        node, key = node
        keys.append(key)
    return tuple(reversed(keys))


def _check_leaf(item: Any, where: tuple[str | int, ...], strings: bool) -> None:
    if isinstance(item, str):
        if strings:
            _check_text(item, where)
    elif isinstance(item, bool) or item is None:
        return
    elif isinstance(item, int):
        if not INT64_MIN <= item <= INT64_MAX:
            raise BadInput(INT64_MESSAGE, loc=where, kind="int_parsing_size")
    elif isinstance(item, float) and not math.isfinite(item):
        raise BadInput("must be a finite number", loc=where, kind="finite_number")


def _check_text(value: str, loc: tuple[str | int, ...], *, what: str = "") -> None:
    problem = text_problem(value)
    if problem is not None:
        kind, message = problem
        raise BadInput(f"{what} {message}".strip() if what else message, loc=loc, kind=kind)


# --- Columns ----------------------------------------------------------------------------------

_INTEGER_RANGES = BaseDatabaseOperations.integer_field_ranges


def column_bounds(model: type[models.Model], field_name: str) -> dict[str, int]:
    """``min_value``/``max_value`` of an integer column, for the serializer field that feeds it
    (so that the schema states them and the error names the wire field)."""
    low, high = _INTEGER_RANGES[model._meta.get_field(field_name).get_internal_type()]
    return {"min_value": low, "max_value": high}


def check_columns(instance: models.Model, update_fields: frozenset[str] | None = None) -> None:
    """BadInput naming the first field of ``instance`` whose value its column cannot hold."""
    for field in instance._meta.concrete_fields:
        if (
            update_fields is not None
            and field.name not in update_fields
            and field.attname not in update_fields
        ):
            continue
        value = getattr(instance, field.attname, None)
        if value is None:
            continue
        check_column_value(field, value)


def check_column_value(field: models.Field, value: Any) -> None:
    loc = (field.name,)
    if isinstance(field, models.JSONField):
        check_json_value(value, loc)
        return
    if isinstance(value, str):
        _check_text(value, loc)
        max_length = getattr(field, "max_length", None)
        if isinstance(field, models.CharField) and max_length is not None and len(value) > max_length:
            raise BadInput(
                f"must be at most {max_length} characters (got {len(value)})", loc=loc, kind="string_too_long"
            )
        return
    internal_type = field.get_internal_type()
    if internal_type in _INTEGER_RANGES and isinstance(value, int) and not isinstance(value, bool):
        low, high = _INTEGER_RANGES[internal_type]
        if value < low:
            raise BadInput(f"must be at least {low}", loc=loc, kind="greater_than_equal")
        if value > high:
            raise BadInput(f"must be at most {high}", loc=loc, kind="less_than_equal")
    elif isinstance(value, float) and not math.isfinite(value):
        raise BadInput("must be a finite number", loc=loc, kind="finite_number")


def check_columns_before_save(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """``pre_save`` receiver (connected in :mod:`heatportal.apps`); fixtures (``raw``) are trusted."""
    if not raw:
        check_columns(instance, update_fields)
