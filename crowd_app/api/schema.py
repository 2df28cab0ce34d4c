"""The crowd API's bodies in the OpenAPI schema: documentation only, never used at run time
(the views validate with :mod:`crowd_app.api.inputs` and build bodies with
:mod:`crowd_app.api.outputs`). The operations are the views' own ``extend_schema``; their
errors come from :mod:`heatportal.api.schema` like every other family's.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from rest_framework import serializers

from crowd_app.models import CrowdRequest, RequestType
from crowd_app.validation import ANNOTATION_TYPES, MEDIA_TYPES, VALIDATIONS

# --- Bodies -----------------------------------------------------------------------------------

NOT_BLANK = RegexValidator(r"\S", "may not be blank")


def _text(**kwargs) -> serializers.CharField:
    return serializers.CharField(validators=[NOT_BLANK], **kwargs)


class ConfidenceInput(serializers.Serializer):
    strategy = serializers.ChoiceField(choices=["majority"], required=False)
    min_agreements = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    max_crunchers = serializers.IntegerField(
        min_value=1, max_value=settings.CROWD_MAX_CRUNCHERS, required=False, allow_null=True
    )


class RequestInput(serializers.Serializer):
    """What every request type takes; fields beyond these are kept and echoed back."""

    instruction = _text()
    attachments_type = serializers.ChoiceField(choices=MEDIA_TYPES, required=False, allow_null=True)
    attachments = serializers.ListField(
        child=_text(max_length=settings.CROWD_MAX_ATTACHMENT_LENGTH),
        max_length=settings.CROWD_MAX_ATTACHMENTS,
        required=False,
        allow_null=True,
        help_text="Texts, or http(s) URLs when attachments_type is not text.",
    )
    hook_url = serializers.URLField(
        max_length=2000, required=False, allow_null=True, help_text="Where the completed request is POSTed."
    )
    exclude_crunchers = serializers.ListField(child=serializers.CharField(), required=False, allow_null=True)
    confidence = ConfidenceInput(required=False, allow_null=True)


class MultipleChoiceFields(serializers.Serializer):
    choices_type = serializers.ChoiceField(choices=MEDIA_TYPES, required=False, allow_null=True)
    choices = serializers.ListField(
        child=_text(max_length=settings.CROWD_MAX_ATTACHMENT_LENGTH),
        min_length=1,
        max_length=settings.CROWD_MAX_CHOICES,
        help_text="Distinct choices; http(s) URLs when choices_type is not text.",
    )
    min_answers = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    max_answers = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class FreeTextFields(serializers.Serializer):
    validation = serializers.ChoiceField(choices=VALIDATIONS, required=False, allow_null=True)


class RatingFields(serializers.Serializer):
    rating_min = serializers.FloatField(required=False, allow_null=True)
    rating_max = serializers.FloatField(required=False, allow_null=True)
    rating_step = serializers.FloatField(required=False, allow_null=True)
    label_min = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    label_max = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class AnnotationFields(serializers.Serializer):
    attachments = serializers.ListField(
        child=_text(max_length=settings.CROWD_MAX_ATTACHMENT_LENGTH),
        min_length=1,
        max_length=settings.CROWD_MAX_ATTACHMENTS,
        help_text="What to annotate: texts, or http(s) URLs when attachments_type is not text.",
    )
    annotations_type = serializers.ChoiceField(choices=ANNOTATION_TYPES, required=False, allow_null=True)
    min_annotations = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    max_annotations = serializers.IntegerField(min_value=1, required=False, allow_null=True)


def _merge(name: str, *parts: type[serializers.Serializer], **extra: serializers.Field):
    fields: dict[str, serializers.Field] = {}
    for part in parts:
        fields.update({key: field for key, field in part().get_fields().items()})
    fields.update(extra)
    return type(name, (serializers.Serializer,), fields)


def _per_annotation(name: str, inner: type[serializers.Serializer]):
    return _merge(name, inner, instruction=_text())


REQUEST_BODIES: dict[str, type[serializers.Serializer]] = {
    RequestType.MULTIPLE_CHOICE: _merge("CreateMultipleChoice", RequestInput, MultipleChoiceFields),
    RequestType.FREE_TEXT: _merge("CreateFreeText", RequestInput, FreeTextFields),
    RequestType.RATING: _merge("CreateRating", RequestInput, RatingFields),
    RequestType.IMAGE: _merge("CreateImage", RequestInput),
    RequestType.VIDEO: _merge("CreateVideo", RequestInput),
    RequestType.AUDIO: _merge("CreateAudio", RequestInput),
    RequestType.ANNOTATIONS: _merge("CreateAnnotations", RequestInput, AnnotationFields),
    RequestType.ANNOTATIONS_WITH_MULTIPLE_CHOICE: _merge(
        "CreateAnnotationsWithMultipleChoice",
        RequestInput,
        AnnotationFields,
        per_annotation=_per_annotation("PerAnnotationMultipleChoice", MultipleChoiceFields)(),
    ),
    RequestType.ANNOTATIONS_WITH_FREE_TEXT: _merge(
        "CreateAnnotationsWithFreeText",
        RequestInput,
        AnnotationFields,
        per_annotation=_per_annotation("PerAnnotationFreeText", FreeTextFields)(),
    ),
    RequestType.ANNOTATIONS_WITH_RATING: _merge(
        "CreateAnnotationsWithRating",
        RequestInput,
        AnnotationFields,
        per_annotation=_per_annotation("PerAnnotationRating", RatingFields)(),
    ),
}


class CrowdRequestOutput(serializers.Serializer):
    """The Request object: the type's parameters as stored (defaults filled in, other fields
    the client sent kept), and once complete the response and who answered."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=CrowdRequest.Status.choices)
    type = serializers.ChoiceField(choices=RequestType.choices)
    instruction = serializers.CharField()
    response = serializers.JSONField(required=False, allow_null=True, help_text="Once complete.")
    raw_responses = serializers.DictField(
        child=serializers.JSONField(), required=False, help_text="Each cruncher's answer, once complete."
    )
    crunchers = serializers.ListField(child=serializers.CharField(), required=False)


class AbortResult(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField(required=False)


__all__ = ["REQUEST_BODIES", "AbortResult", "CrowdRequestOutput"]
