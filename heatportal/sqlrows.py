"""Rows of model columns read with SQL written once (hot read paths, issue 11).

On a hot read path Django's query compiler can cost several times what the database does, so
some selectors write their query once (table and column names from the models, every value a
parameter) and run it on a cursor. What the cursor gives back is the database's raw values:
SQLite gives datetimes as text, UUIDs as hex text, booleans as integers; both backends give
JSON columns as text. :class:`Columns` applies to such a row the same converters as Django's
compiler would (the backend's, then the field's ``from_db_value``), so the values are the
ones a queryset would have given.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any, cast

import orjson
from django.db.models import Field, Model
from django.db.models.expressions import Col


class Columns:
    """Model columns a query selects, in order: ``(table alias, field)`` pairs."""

    def __init__(self, fields: Sequence[tuple[str, Field]]):
        self.columns = [Col(alias, field) for alias, field in fields]
        # Django's converters are found once per connection: the backend's are methods bound to
        # the connection they were asked of, and connections are per thread.
        self._converters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @classmethod
    def of_model(cls, model: type[Model], alias: str, attnames: Sequence[str] | None = None) -> Columns:
        """The concrete columns of ``model`` named by ``attnames`` (all when None), in field
        order: what ``Model.from_db`` takes (the others deferred)."""
        fields = model._meta.concrete_fields
        return cls([(alias, field) for field in fields if attnames is None or field.attname in attnames])

    def __len__(self) -> int:
        return len(self.columns)

    def select(self, quote: Callable[[str], str]) -> str:
        """``alias."column", ...`` for a SELECT list (``quote``: ``connection.ops.quote_name``)."""
        # A concrete field always has its column (the stubs allow None for the others).
        return ", ".join(
            f"{column.alias}.{quote(cast(str, column.target.column))}" for column in self.columns
        )

    def convert(self, db: Any, values: Sequence[Any]) -> list[Any]:
        """``values`` (this many raw values from ``db``'s cursor) as Django would give them.
        ``db``: the connection itself (``connections[alias]``, not the ``connection`` proxy)."""
        converters = self._converters.get(db)
        if converters is None:
            converters = self._converters[db] = [
                (column, db.ops.get_db_converters(column) + column.get_db_converters(db))
                for column in self.columns
            ]
        converted = list(values)
        for index, (column, found) in enumerate(converters):
            for converter in found:
                converted[index] = converter(converted[index], column, db)
        return converted

    def instance(self, model: type[Model], db: Any, values: Sequence[Any]) -> Model:
        """A ``model`` instance from the raw values of ``of_model(model, ...)``'s columns."""
        names = [column.target.attname for column in self.columns]
        return model.from_db(db.alias, names, self.convert(db, values))


def instances(db: Any, row: Sequence[Any], parts: Sequence[tuple[type[Model], Columns]]) -> list[Model]:
    """One instance per ``(model, columns)`` of ``parts`` from a row that selected their
    columns one after another (a query joining those models' tables)."""
    found, offset = [], 0
    for model, columns in parts:
        found.append(columns.instance(model, db, row[offset : offset + len(columns)]))
        offset += len(columns)
    return found


class RawJson:
    """A JSON column's stored text, for a body that only passes it on: rendered as it is
    (:func:`heatportal.api.rendering.dumps`), not decoded and encoded again. A scenario's
    result is a week of series: decoding and re-encoding it was most of what listing the
    scenarios of a session cost."""

    __slots__ = ("text",)

    def __init__(self, text: str | bytes):
        self.text = text

    def value(self) -> Any:
        return orjson.loads(self.text)


def json_raw(value: Any) -> Any:
    """A JSON column's raw value kept as text (:class:`RawJson`); None stays None. For JSON
    that a response passes on whole; :func:`json_value` for JSON that code reads."""
    return RawJson(value) if isinstance(value, (str, bytes)) else value


def json_value(value: Any) -> Any:
    """A JSON column's raw value as Python: both backends give JSON as text to a cursor (Django
    reads jsonb as text with psycopg 3), orjson decodes it. For hot paths that need only the
    JSON columns of a row, without a whole :class:`Columns`."""
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def field(model: type[Model], name: str) -> Field[Any, Any]:
    """``model``'s concrete field ``name`` (``"pk"``: its primary key), for a query's columns."""
    found = model._meta.pk if name == "pk" else model._meta.get_field(name)
    if not isinstance(found, Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return found


def column(model: type[Model], name: str) -> str:
    """The column name of ``model``'s field ``name`` (``"pk"``: its primary key)."""
    found = field(model, name).column
    if found is None:
        raise TypeError(f"{model.__name__}.{name} has no column")
    return found
