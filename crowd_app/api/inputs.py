"""Input models of the crowd API: the body of ``POST /v1/requests/{type}``, one model per
request type (document 004).

Each rule raises the message the API has always answered (``"choices[1]: must be a non-empty
string"``): document 004's clients read them, so the rules are written out per field instead of
Pydantic's stock wording. Values are taken as JSON gives them (no coercion of ``"1"`` to 1).
Limits are read from the settings at validation time. Fields beyond the documented ones are
kept and echoed back (CONTRACT §5); :meth:`RequestInput.params` gives what is stored.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from django.conf import settings
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from crowd_app.models import RequestType
from crowd_app.validation import ANNOTATION_TYPES, MEDIA_TYPES, VALIDATIONS, is_http_url
from heatportal.api.input import is_number


def invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", "{message}", {"message": message})


def invalid_at(loc: tuple[str | int, ...], message: str, value: Any = None) -> ValidationError:
    """An error at ``loc`` below the model being validated (rules that look at several fields)."""
    return ValidationError.from_exception_data(
        "CrowdRequest", [InitErrorDetails(type=invalid(message), loc=loc, input=value)]
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- Rules of single fields -------------------------------------------------------------------


def _text(value: Any, *, required: bool) -> str | None:
    if value is None:
        if required:
            raise invalid("this field is required")
        return None
    if not isinstance(value, str):
        raise invalid("must be a string")
    if required and not value.strip():
        raise invalid("may not be blank")
    if len(value) > settings.CROWD_MAX_TEXT_LENGTH:
        raise invalid(f"must be at most {settings.CROWD_MAX_TEXT_LENGTH} characters")
    return value


def choice(options: tuple[str, ...], default: str | None):
    def rule(value: Any) -> str | None:
        if value is None:
            return default
        if value not in options:
            raise invalid(f"must be one of {', '.join(options)}")
        return value

    return PlainValidator(rule)


def count(default: int | None, *, minimum: int):
    """An integer (``2.0`` is 2; ``"2"`` and ``true`` are not)."""

    def rule(value: Any) -> int | None:
        if value is None:
            return default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not _is_int(value):
            raise invalid("must be an integer")
        if value < minimum:
            raise invalid(f"must be at least {minimum}")
        return value

    return PlainValidator(rule)


def number(default: int):
    def rule(value: Any) -> int | float:
        if value is None:
            return default
        if not is_number(value):
            raise invalid("must be a number")
        return value

    return PlainValidator(rule)


def strings(limit_setting: str, *, required: bool, media_field: str):
    """A list of non-blank strings, at most ``settings.<limit_setting>`` of them; http(s) URLs
    unless the media type (the field ``media_field``, declared before) is text."""

    def rule(value: Any, info: ValidationInfo) -> list[str] | None:
        if value is None:
            if required:
                raise invalid("this field is required")
            return []
        if not isinstance(value, list):
            raise invalid("must be an array of strings")
        limit = getattr(settings, limit_setting)
        if len(value) > limit:
            raise invalid(f"at most {limit} items are allowed")
        _strings_check(value)
        media_type = info.data.get(media_field, "text")
        for index, item in enumerate(value):
            if media_type != "text" and not is_http_url(item):
                raise invalid_at((index,), f"must be an http(s) URL for type {media_type}", item)
        return value

    return PlainValidator(rule)


def _strings_check(value: list[Any]) -> None:
    """Every item a non-blank string of at most ``CROWD_MAX_ATTACHMENT_LENGTH`` characters."""
    max_length = settings.CROWD_MAX_ATTACHMENT_LENGTH
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise invalid_at((index,), "must be a non-empty string", item)
        if len(item) > max_length:
            raise invalid_at((index,), f"must be at most {max_length} characters", item)


def _http_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not is_http_url(value) or len(value) > 2000:
        raise invalid("must be an http(s) URL")
    return value


def _cruncher_ids(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid("must be an array of cruncher ids")
    return value


def _model_or_none(model: type[BaseModel], value: Any) -> BaseModel | None:
    return None if value is None else model.model_validate(value)


Instruction = Annotated[Any, PlainValidator(lambda value: _text(value, required=True))]
Label = Annotated[Any, PlainValidator(lambda value: _text(value, required=False))]
ABSENT = Field(None, validate_default=True)  # rules see a missing field as None


class Input(BaseModel):
    """Base of the crowd input models: fields beyond the declared ones are kept; a body that is
    not an object is refused with ``message``."""

    model_config = ConfigDict(extra="allow")
    not_an_object: ClassVar[tuple[tuple[str, ...], str]] = ((), "must be an object")
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _an_object(cls, data: Any, handler):
        if not isinstance(data, dict):
            loc, message = cls.not_an_object
            if loc:
                raise invalid_at(loc, message, data)
            raise invalid(message)
        validated = handler(data)
        validated._raw = data
        return validated

    def declared(self, *names: str, skip_none: bool = False) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in names}
        return {k: v for k, v in values.items() if v is not None} if skip_none else values


# --- The parts of each request type -----------------------------------------------------------


class MultipleChoiceFields(Input):
    choices_type: Annotated[Any, choice(MEDIA_TYPES, "text")] = ABSENT
    choices: Annotated[Any, strings("CROWD_MAX_CHOICES", required=True, media_field="choices_type")] = ABSENT
    min_answers: Annotated[Any, count(1, minimum=1)] = ABSENT
    max_answers: Annotated[Any, count(0, minimum=0)] = ABSENT

    @model_validator(mode="after")
    def _choices(self):
        if not self.choices:
            raise invalid_at(("choices",), "must not be empty", self.choices)
        if len(set(self.choices)) != len(self.choices):
            raise invalid_at(("choices",), "must not repeat a choice", self.choices)
        if self.min_answers > len(self.choices):
            raise invalid_at(("min_answers",), "must not exceed the number of choices", self.min_answers)
        if self.max_answers and self.min_answers > self.max_answers:
            raise invalid_at(("min_answers",), "must not exceed max_answers", self.min_answers)
        return self

    def type_params(self) -> dict[str, Any]:
        return self.declared("choices_type", "choices", "min_answers", "max_answers")


class FreeTextFields(Input):
    validation: Annotated[Any, choice(VALIDATIONS, None)] = ABSENT

    def type_params(self) -> dict[str, Any]:
        return self.declared("validation", skip_none=True)


class RatingFields(Input):
    rating_min: Annotated[Any, number(0)] = ABSENT
    rating_max: Annotated[Any, number(100)] = ABSENT
    rating_step: Annotated[Any, number(1)] = ABSENT
    label_min: Label = ABSENT
    label_max: Label = ABSENT

    @model_validator(mode="after")
    def _range(self):
        if self.rating_min >= self.rating_max:
            raise invalid_at(("rating_max",), "must be greater than rating_min", self.rating_max)
        span = self.rating_max - self.rating_min
        if not math.isfinite(span):  # both near the float limits
            raise invalid_at(
                ("rating_max",), "rating_max - rating_min must be a finite number", self.rating_max
            )
        if self.rating_step <= 0:
            raise invalid_at(("rating_step",), "must be greater than 0", self.rating_step)
        if self.rating_step > span:
            raise invalid_at(("rating_step",), "must not exceed rating_max - rating_min", self.rating_step)
        if not math.isfinite(span / self.rating_step):
            # Answers and staging count the steps of the range: infinitely many are none.
            raise invalid_at(("rating_step",), "is too small for the range of the rating", self.rating_step)
        return self

    def type_params(self) -> dict[str, Any]:
        return {
            **self.declared("rating_min", "rating_max", "rating_step"),
            **self.declared("label_min", "label_max", skip_none=True),
        }


class Instructed(Input):
    instruction: Instruction = ABSENT


class PerAnnotation(Instructed):
    """``per_annotation``: what is asked about each annotation. Its fields beyond the declared
    ones are kept too."""

    if TYPE_CHECKING:  # given by the type's fields mixin of each subclass

        def type_params(self) -> dict[str, Any]: ...

    def stored(self) -> dict[str, Any]:
        return {**self._raw, "instruction": self.instruction, **self.type_params()}


class PerAnnotationMultipleChoice(MultipleChoiceFields, PerAnnotation):
    pass


class PerAnnotationFreeText(FreeTextFields, PerAnnotation):
    pass


class PerAnnotationRating(RatingFields, PerAnnotation):
    pass


class Confidence(Input):
    strategy: Annotated[Any, PlainValidator(lambda value: value)] = "majority"
    min_agreements: Annotated[Any, count(2, minimum=1)] = ABSENT
    max_crunchers: Annotated[Any, count(None, minimum=1)] = ABSENT

    @model_validator(mode="after")
    def _votes(self):
        if self.strategy != "majority":
            raise invalid_at(("strategy",), 'only "majority" is supported', self.strategy)
        if self.max_crunchers is None:
            self.max_crunchers = max(self.min_agreements, 3)
        if self.max_crunchers < self.min_agreements:
            raise invalid_at(("max_crunchers",), "must not be less than min_agreements", self.max_crunchers)
        if self.max_crunchers > settings.CROWD_MAX_CRUNCHERS:
            message = f"must be at most {settings.CROWD_MAX_CRUNCHERS}"
            raise invalid_at(("max_crunchers",), message, self.max_crunchers)
        return self

    def stored(self) -> dict[str, Any]:
        return {**self._raw, **self.declared("strategy", "min_agreements", "max_crunchers")}


# --- The request types ------------------------------------------------------------------------

# Server-owned fields of the Request object: a client cannot set them.
RESERVED = {"id", "status", "response", "raw_responses", "crunchers", "type"}
# The request fields document 004 defines, over all types: sent as null, they are absent.
DOCUMENTED = {
    "instruction", "attachments_type", "attachments", "hook_url", "exclude_crunchers", "confidence",
    "choices_type", "choices", "min_answers", "max_answers", "validation", "rating_min", "rating_max",
    "rating_step", "label_min", "label_max", "annotations_type", "min_annotations", "max_annotations",
    "per_annotation",
}  # fmt: skip


class RequestInput(Instructed):
    """What every request type takes."""

    not_an_object = (("body",), "must be a JSON object")

    attachments_type: Annotated[Any, choice(MEDIA_TYPES, "text")] = ABSENT
    attachments: Annotated[
        Any, strings("CROWD_MAX_ATTACHMENTS", required=False, media_field="attachments_type")
    ] = ABSENT

    def type_params(self) -> dict[str, Any]:
        """The params of the request type's own fields (none for media requests)."""
        return {}


class Delivery(Input):
    """What every request type takes after its own fields: where the result goes and who may
    answer. The first base of every ``Create...`` model (so that its fields come last), which
    puts the stored params together."""

    if TYPE_CHECKING:  # given by the request type's fields, the later bases

        def type_params(self) -> dict[str, Any]: ...

    hook_url: Annotated[Any, PlainValidator(_http_url)] = ABSENT
    exclude_crunchers: Annotated[Any, PlainValidator(_cruncher_ids)] = ABSENT
    confidence: Annotated[Any, PlainValidator(lambda value: _model_or_none(Confidence, value))] = None

    def params(self) -> dict[str, Any]:
        """The params to store and echo: the documented ones with their defaults filled in,
        after the client's other fields (ours win on clashes)."""
        out = {
            **self.declared("instruction", "attachments_type", "attachments"),
            **self.type_params(),
            **self.declared("hook_url", "exclude_crunchers", skip_none=True),
        }
        if self.confidence is not None:
            out["confidence"] = self.confidence.stored()
        extra = {
            key: value
            for key, value in (self.model_extra or {}).items()
            if key not in RESERVED and not (value is None and key in DOCUMENTED)
        }
        params = {**extra, **out}
        if len(json.dumps(params)) > settings.CROWD_MAX_PARAMS_BYTES:
            raise invalid_at(("body",), f"must be at most {settings.CROWD_MAX_PARAMS_BYTES} bytes")
        return params


class AnnotationFields(Input):
    annotations_type: Annotated[Any, choice(ANNOTATION_TYPES, "point")] = ABSENT
    min_annotations: Annotated[Any, count(1, minimum=0)] = ABSENT
    max_annotations: Annotated[Any, count(None, minimum=1)] = ABSENT

    @model_validator(mode="after")
    def _annotations(self):
        if not self.attachments:
            raise invalid_at(("attachments",), "annotations need at least one attachment", self.attachments)
        if self.max_annotations is not None and self.max_annotations < self.min_annotations:
            message = "must not be less than min_annotations"
            raise invalid_at(("max_annotations",), message, self.max_annotations)
        return self

    def annotation_params(self) -> dict[str, Any]:
        return {
            **self.declared("annotations_type", "min_annotations"),
            **self.declared("max_annotations", skip_none=True),
        }


def _per_annotation(model: type[PerAnnotation]):
    def rule(value: Any) -> PerAnnotation:
        if value is None:
            raise invalid("this field is required")
        return model.model_validate(value)

    return PlainValidator(rule)


class CreateMultipleChoice(Delivery, MultipleChoiceFields, RequestInput):
    pass


class CreateFreeText(Delivery, FreeTextFields, RequestInput):
    pass


class CreateRating(Delivery, RatingFields, RequestInput):
    pass


class CreateMedia(Delivery, RequestInput):
    """image, video and audio requests: a file uploaded by the cruncher."""


class CreateAnnotations(Delivery, AnnotationFields, RequestInput):
    def type_params(self) -> dict[str, Any]:
        return self.annotation_params()


class _AnnotationsWith(AnnotationFields, RequestInput):
    if TYPE_CHECKING:  # a field of each subclass, of its own inner type
        per_annotation: Any

    def type_params(self) -> dict[str, Any]:
        return {**self.annotation_params(), "per_annotation": self.per_annotation.stored()}


class AnnotationsWithMultipleChoiceFields(_AnnotationsWith):
    per_annotation: Annotated[Any, _per_annotation(PerAnnotationMultipleChoice)] = ABSENT


class CreateAnnotationsWithMultipleChoice(Delivery, AnnotationsWithMultipleChoiceFields):
    pass


class AnnotationsWithFreeTextFields(_AnnotationsWith):
    per_annotation: Annotated[Any, _per_annotation(PerAnnotationFreeText)] = ABSENT


class CreateAnnotationsWithFreeText(Delivery, AnnotationsWithFreeTextFields):
    pass


class AnnotationsWithRatingFields(_AnnotationsWith):
    per_annotation: Annotated[Any, _per_annotation(PerAnnotationRating)] = ABSENT


class CreateAnnotationsWithRating(Delivery, AnnotationsWithRatingFields):
    pass


REQUEST_INPUTS: dict[str, type[Delivery]] = {
    RequestType.MULTIPLE_CHOICE: CreateMultipleChoice,
    RequestType.FREE_TEXT: CreateFreeText,
    RequestType.RATING: CreateRating,
    RequestType.IMAGE: CreateMedia,
    RequestType.VIDEO: CreateMedia,
    RequestType.AUDIO: CreateMedia,
    RequestType.ANNOTATIONS: CreateAnnotations,
    RequestType.ANNOTATIONS_WITH_MULTIPLE_CHOICE: CreateAnnotationsWithMultipleChoice,
    RequestType.ANNOTATIONS_WITH_FREE_TEXT: CreateAnnotationsWithFreeText,
    RequestType.ANNOTATIONS_WITH_RATING: CreateAnnotationsWithRating,
}


def request_params(request_type: str, body: Any) -> dict[str, Any]:
    """The params to store and echo for a new request of ``request_type`` (a known type), or
    Pydantic's ValidationError naming the offending field."""
    return REQUEST_INPUTS[request_type].model_validate(body).params()


# --- Queries ----------------------------------------------------------------------------------


def _seconds(value: Any) -> float:
    """``?block=N``: seconds to wait, at most ``CROWD_MAX_BLOCK_SECONDS`` (an empty value is not
    a number: the schema's type)."""
    try:
        seconds = float(str(value))
    except ValueError:
        raise invalid("must be a number of seconds") from None
    if seconds < 0 or seconds != seconds:
        raise invalid("must be a number of seconds")
    return min(seconds, settings.CROWD_MAX_BLOCK_SECONDS)


class BlockQuery(BaseModel):
    """The query of the calls that may wait for a request to complete."""

    block: Annotated[float, PlainValidator(_seconds)] = 0.0
