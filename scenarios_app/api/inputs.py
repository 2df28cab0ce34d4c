"""The runner's request bodies as Pydantic v2 models, so that a refused body gets the 422 that
FastAPI (the server document 003 was written for) gives: ``{"detail": [{"type", "loc", "msg",
"input", "ctx"?}]}``, rendered by :func:`heatportal.api.errors.error_for`.

Views validate with ``self.validated(Model)``. JSON bodies have already been read by
:func:`heatportal.api.input.parse_json`, which refuses NUL characters and lone surrogates
anywhere (422 ``string_pattern_mismatch`` / ``string_unicode``); the names check them again for
form fields, which it does not read.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FiniteFloat,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from heatportal.api.input import text_problem

MAX_NAME_LENGTH = 200  # display names, tags, dataset keys (the columns' length)


def _storable_and_not_blank(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise PydanticCustomError(problem[0], problem[1])
    if not value.strip():  # "Must be non-empty": blanks are as empty as ""
        raise PydanticCustomError(
            "string_too_short", "String should have at least {min_length} character", {"min_length": 1}
        )
    return value


# A display name, tag or dataset key: 1 to 200 characters, not only blanks.
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH),
    AfterValidator(_storable_and_not_blank),
]


def _present(value: Any) -> Any:
    if value is None:  # FastAPI's error for a form field that was not sent
        raise PydanticCustomError("missing", "Field required")
    return value


class Input(BaseModel):
    """Base of the runner's bodies. Validated as FastAPI validates a body parameter (from
    attributes), so that a body that is not an object is ``model_attributes_type``; unknown
    fields are ignored, as FastAPI does."""

    model_config = ConfigDict(from_attributes=True)


class SessionCreate(Input):
    display_name: Name


class SessionCopy(Input):
    new_display_name: Name


class ScenarioCreate(Input):
    tag: Name
    dataset_key: Name
    algo_name: Name
    algo_params: dict[str, Any] | None = None
    data_params: dict[str, Any] | None = None


class DatasetDerive(Input):
    new_key: Name


class EtlForm(Input):
    """The multipart form's text field (the files are read from ``request.FILES``)."""

    dataset_name: Annotated[Name, BeforeValidator(_present)]


class PricePoint(Input):
    """A price (EUR/kWh) that holds from ``t`` until the next point's ``t``."""

    t: AwareDatetime
    value: Annotated[FiniteFloat, Field(ge=-10, le=10)]


class DatasetFromSite(Input):
    """``POST /data/from-site``: a dataset of the site's measured load and PV over [from, to)."""

    new_key: Name
    siteId: uuid.UUID
    start: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    prices: Annotated[list[PricePoint], Field(max_length=100_000)] | None = None


class ScenarioApply(Input):
    """``POST /scenarios/{id}/apply``: the site and the time the dispatch's first step starts."""

    siteId: uuid.UUID
    startAt: AwareDatetime
