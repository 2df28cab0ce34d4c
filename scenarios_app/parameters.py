"""Typed parameter schemas: what an algorithm (or a dataset) accepts, and their validation.

A :class:`Parameter` describes one value (integer, float, boolean, string or enum, with
min/max, choices, a default and whether it is required); a :class:`Rule` relates two of them
(``min_soc < max_soc``). :func:`validate_parameters` turns a client's values into the complete,
typed set or raises :class:`ParameterError` naming the parameter, which the API answers with 400
(document 003: "A parameter value failed validation") and the portal's form shows at the field.
Cross-field rules are checked here, when a scenario is created, not when it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from heatportal.api.input import is_number


class ParameterError(ValueError):
    """A parameter value failed validation; the message names the parameter.

    ``parameter`` is the name of the offending parameter (when there is one) and ``page_message``
    the wording for a form, next to that parameter's field (the API's message otherwise).
    """

    def __init__(self, message: str, *, parameter: str | None = None, page_message: str | None = None):
        super().__init__(message)
        self.parameter = parameter
        self.page_message = page_message or message


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str  # "integer" | "float" | "boolean" | "string" | "enum"
    default: Any = None
    required: bool = True
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    max_length: int | None = None
    label: str = ""
    help: str = ""

    TYPES = ("integer", "float", "boolean", "string", "enum")

    def __post_init__(self):
        if self.type not in self.TYPES:
            raise ValueError(f"unknown parameter type {self.type!r}")
        if self.type == "enum" and not self.choices:
            raise ValueError(f"enum parameter {self.name!r} needs choices")

    def descriptor(self, value: Any = None, *, with_value: bool = True) -> dict:
        """The document's descriptor: optional fields appear only when they apply."""
        body: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        if with_value:
            body["value"] = self.default if value is None else value
        if self.default is not None:
            body["default"] = self.default
        if self.type in ("integer", "float"):
            if self.min is not None:
                body["min"] = self.min
            if self.max is not None:
                body["max"] = self.max
        if self.type == "enum":
            body["choices"] = list(self.choices or ())
        if self.type == "string" and self.max_length is not None:
            body["max_length"] = self.max_length
        return body

    def clean(self, value: Any) -> Any:
        """The typed value, or ParameterError."""
        cleaners = {
            "integer": self._clean_integer,
            "float": self._clean_float,
            "boolean": self._clean_boolean,
            "string": self._clean_string,
            "enum": self._clean_enum,
        }
        return cleaners[self.type](value)

    def _clean_integer(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(f"Parameter '{self.name}' must be an integer.")
        if isinstance(value, float):
            if not value.is_integer():
                raise ParameterError(f"Parameter '{self.name}' must be an integer.")
            value = int(value)
        self._check_range(value)
        return value

    def _clean_float(self, value: Any) -> float:
        if not is_number(value):
            raise ParameterError(f"Parameter '{self.name}' must be a number.")
        number = float(value)
        self._check_range(number)
        return number

    def _clean_boolean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ParameterError(f"Parameter '{self.name}' must be a boolean.")
        return value

    def _clean_string(self, value: Any) -> str:
        if not isinstance(value, str) or "\x00" in value:
            raise ParameterError(f"Parameter '{self.name}' must be a string.")
        if self.max_length is not None and len(value) > self.max_length:
            raise ParameterError(
                f"Parameter '{self.name}' must be at most {self.max_length} characters long."
            )
        return value

    def _clean_enum(self, value: Any) -> str:
        if not isinstance(value, str) or value not in (self.choices or ()):
            choices = ", ".join(f"'{choice}'" for choice in self.choices or ())
            raise ParameterError(f"Parameter '{self.name}' must be one of: {choices}.")
        return value

    def _check_range(self, value: float) -> None:
        if self.min is not None and value < self.min:
            raise ParameterError(f"Parameter '{self.name}' must be greater than or equal to {self.min}.")
        if self.max is not None and value > self.max:
            raise ParameterError(f"Parameter '{self.name}' must be less than or equal to {self.max}.")


@dataclass(frozen=True)
class Rule:
    """A cross-field rule of a schema: ``left op right``, both parameter names (numbers).

    ``message`` is the human wording shown on the form, next to ``left``'s field.
    """

    left: str
    op: str  # "<" | "<=" | ">" | ">="
    right: str
    message: str = ""

    OPS = {
        "<": ("less than", lambda a, b: a < b),
        "<=": ("less than or equal to", lambda a, b: a <= b),
        ">": ("greater than", lambda a, b: a > b),
        ">=": ("greater than or equal to", lambda a, b: a >= b),
    }

    def __post_init__(self):
        if self.op not in self.OPS:
            raise ValueError(f"unknown rule operator {self.op!r}")

    def check(self, values: dict) -> None:
        """ParameterError unless the rule holds (a rule on an absent parameter holds)."""
        if self.left not in values or self.right not in values:
            return
        left, right = values[self.left], values[self.right]
        words, holds = self.OPS[self.op]
        if not holds(left, right):
            raise ParameterError(
                f"Parameter '{self.left}' ({left:g}) must be {words} '{self.right}' ({right:g}).",
                parameter=self.left,
                page_message=self.message or None,
            )


def validate_parameters(
    schema: tuple[Parameter, ...], values: dict | None, rules: tuple[Rule, ...] = ()
) -> dict:
    """Every parameter of ``schema`` with its checked value (defaults filled in), then
    ``rules``, the schema's cross-field rules, checked on the complete set."""
    values = dict(values or {})
    known = {parameter.name for parameter in schema}
    for name in values:
        if name not in known:
            raise ParameterError(f"Unknown parameter '{name}'.")
    cleaned: dict[str, Any] = {}
    for parameter in schema:
        value = values.get(parameter.name)
        if value is None:
            if parameter.default is None:
                if parameter.required:
                    raise ParameterError(f"Parameter '{parameter.name}' is required.")
                continue
            value = parameter.default
        cleaned[parameter.name] = parameter.clean(value)
    for rule in rules:
        rule.check(cleaned)
    return cleaned


def describe(schema: tuple[Parameter, ...], values: dict | None = None) -> list[dict]:
    values = values or {}
    return [parameter.descriptor(values.get(parameter.name)) for parameter in schema]
