"""The HEAT family's request bodies (HEAT v2 API and HEAT Auth), read one way by both.

The HEAT documents send field names in any casing (PascalCase, camelCase, snake_case), so the
top-level keys are put in snake_case before the input model validates them; a refused body is a
400 whose message is the endpoint's own ("Invalid project data.") with every offending field in
``errors`` (``{"field", "message"}``), worded as the .NET-era clients and the DRF serializers
before these models worded them ("This field is required.", "Ensure this value is less than
or equal to 2147483647.").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.dateparse import parse_datetime
from pydantic import AfterValidator, BaseModel, BeforeValidator, StringConstraints
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from heatportal.api.fields import snake_keys
from heatportal.api.views import ApiView
from heatportal.services import ServiceError

ModelT = TypeVar("ModelT", bound=BaseModel)

# Pydantic's error types in the wording the HEAT clients have always received.
WORDING = {
    "missing": "This field is required.",
    "string_type": "Not a valid string.",
    "string_too_short": "This field may not be blank.",
    "string_too_long": "Ensure this field has no more than {max_length} characters.",
    "int_type": "A valid integer is required.",
    "int_parsing": "A valid integer is required.",
    "int_from_float": "A valid integer is required.",
    "bool_type": "Must be a valid boolean.",
    "bool_parsing": "Must be a valid boolean.",
    "greater_than_equal": "Ensure this value is greater than or equal to {ge}.",
    "less_than_equal": "Ensure this value is less than or equal to {le}.",
    "model_type": "Expected a JSON object.",
}


def field_errors(exc: PydanticValidationError) -> list[dict[str, str]]:
    """``{"field", "message"}`` for each error of ``exc``, in the HEAT wording."""
    errors = []
    for item in exc.errors(include_url=False, include_input=False):
        wording = WORDING.get(item["type"])
        message = wording.format(**item.get("ctx", {})) if wording else item["msg"]
        field = ".".join(str(part) for part in item["loc"]) or "body"
        errors.append({"field": field, "message": message})
    return errors


class HeatApiView(ApiView):
    """Base of the HEAT v2 and HEAT Auth views: bodies read by :meth:`parse`."""

    def parse(self, model: type[ModelT], message: str, data: Any = None) -> ModelT:
        """The body (``data`` if given), its keys in snake_case, as an instance of ``model``;
        a 400 with ``message`` and the offending fields otherwise."""
        data = self.data if data is None else data
        if not isinstance(data, dict):
            raise ServiceError(message, details=[{"field": "body", "message": "Expected a JSON object."}])
        try:
            return model.model_validate(snake_keys(data))
        except PydanticValidationError as error:
            raise ServiceError(message, details=field_errors(error)) from None


# --- Field types ------------------------------------------------------------------------------
# JSON strings only (a number is refused, not stored as its text), trimmed, never blank unless
# the field says so; the maximum length is the column's.


def text_constraints(
    max_length: int | None = None, *, blank: bool = False, trim: bool = True
) -> StringConstraints:
    """The rules of a text field, for ``Annotated[str, text_constraints(...)]`` (a type alias
    the type checker understands, unlike the result of :func:`Text`)."""
    return StringConstraints(
        strict=True, strip_whitespace=trim, min_length=None if blank else 1, max_length=max_length
    )


def Text(max_length: int | None = None, *, blank: bool = False, trim: bool = True) -> Any:
    return Annotated[str, text_constraints(max_length, blank=blank, trim=trim)]


def _email(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise PydanticCustomError("value_error", "Enter a valid email address.") from None
    return value


Email = Annotated[str, StringConstraints(strict=True, strip_whitespace=True), AfterValidator(_email)]

DATETIME_FORMAT = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)


def _datetime(value: Any) -> datetime:
    """An ISO 8601 text as an aware UTC datetime (a naive one is taken as UTC)."""
    parsed: datetime | None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise PydanticCustomError("datetime_parsing", DATETIME_FORMAT)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("datetime_range", "Datetime value out of range.") from None


DateTime = Annotated[datetime, BeforeValidator(_datetime)]


def _not_a_bool(value: Any) -> Any:
    # Pydantic takes true/false for an int; DRF's IntegerField (and the schema) did not.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", WORDING["int_type"])
    return value


Integer = Annotated[int, BeforeValidator(_not_a_bool)]

__all__ = ["DateTime", "Email", "HeatApiView", "Integer", "Text", "field_errors"]
