"""Request bodies of the HEAT v2 API, validated after their keys are put in snake_case
(:meth:`heatportal.api.heat.HeatApiView.parse`). Unknown keys are ignored, as the documents'
clients send more than each endpoint reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.backends.base.operations import BaseDatabaseOperations
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from heatportal.api.heat import DateTime, Email, Integer, Text
from heatportal.api.input import BadInput, parse_json
from sessions_app.models import PlatformConfiguration

if TYPE_CHECKING:
    # Stub gap: ``Text(...)`` builds an ``Annotated[str, ...]`` at run time, which the checker
    # cannot follow through a function call; to it these are plain strings.
    Text200 = str
    Text200Blank = str
    Text300Blank = str
    Text500Blank = str
    TextBlank = str
else:
    Text200 = Text(200)
    Text200Blank = Text(200, blank=True)
    Text300Blank = Text(300, blank=True)
    Text500Blank = Text(500, blank=True)
    TextBlank = Text(blank=True)
INT32_MIN, INT32_MAX = BaseDatabaseOperations.integer_field_ranges["IntegerField"]  # machine_group


class Input(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ProjectInput(Input):
    title: Text200
    description: TextBlank = ""
    icon: Text500Blank = ""
    owner_id: Integer | None = None
    default_session_template_id: Integer | None = None


class SessionInput(Input):
    name: Text200
    email: Email = ""
    simulation_name: Text200Blank | None = None
    session_template_id: Integer | None = None
    project_id: Integer | None = None
    metadata: Any = None


class SessionPatchInput(Input):
    """Only the fields sent are changed (``model_fields_set``)."""

    name: Text200 = ""
    email: Email = ""
    simulation_name: Text200Blank | None = None
    session_template_id: Integer = 0
    project_id: Integer = 0
    metadata: Any = None

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value: Any) -> Any:
        # "metadata must be valid JSON": a JSON string is parsed, anything else kept as sent.
        if isinstance(value, str):
            try:
                return parse_json(value)
            except BadInput as error:
                raise PydanticCustomError(
                    "value_error", "must be valid JSON ({error})", {"error": str(error)}
                ) from None
        return value


class SharedSessionInput(Input):
    name: Text200
    simulation_name: Text200
    email: Email
    session_template_id: Integer
    start_time_utc: DateTime
    machine_group: Integer = Field(ge=INT32_MIN, le=INT32_MAX)
    time_window_seconds: Integer = Field(300, ge=0, le=86400)


class CloseSessionInput(Input):
    email: Email = ""
    reason: Text500Blank = ""
    close_at: DateTime | None = None


class ScenarioInstanceInput(Input):
    """``from`` and ``to`` are Python keywords: the fields are ``start`` and ``end``. A missing
    scenario name is the service's error, with the document's message."""

    simulation_id: Text200Blank = ""
    scenario_name: Text200Blank = ""
    scenario_instance_id: Text200Blank = ""
    start: DateTime | None = Field(None, alias="from")
    end: DateTime | None = Field(None, alias="to")


class ConfigInput(Input):
    name: Text300Blank  # the service checks it
    value_type: Integer = PlatformConfiguration.ValueType.STRING
    value: Any = ""
    description: TextBlank = ""


__all__ = [
    "CloseSessionInput",
    "ConfigInput",
    "ProjectInput",
    "ScenarioInstanceInput",
    "SessionInput",
    "SessionPatchInput",
    "SharedSessionInput",
]
