"""The crowd API in the OpenAPI schema.

Its views are async Django views (``crowd_app.api.views``), which drf-spectacular does not
see. :func:`crowd_endpoints` (a ``PREPROCESSING_HOOKS`` entry) adds them as DRF views that only
describe them: one ``POST /v1/requests/{type}`` path per request type, each with that type's
body, ``GET /v1/requests/{id}`` and ``POST /v1/tasks/abort/{id}``, at the paths the URL
configuration gives (``reverse``). Their errors come from :mod:`heatportal.api.schema` like
every other family's.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.urls import reverse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.authentication import BaseAuthentication

from crowd_app.demo import SAMPLE_REQUEST_ID
from crowd_app.models import CrowdRequest, RequestType
from crowd_app.validation import ANNOTATION_TYPES, MEDIA_TYPES, VALIDATIONS
from heatportal.api.errors import CROWD, FamilyAPIView
from heatportal.api.schema import CrowdError, error_responses

# --- Credentials ------------------------------------------------------------------------------


class CrowdKeyCredentials(BaseAuthentication):
    """Stands for the crowd API's credentials in the schema; the async views read the key
    themselves (:func:`crowd_app.api.views.presented_key`)."""

    def authenticate(self, request):
        return None


class CrowdKeyScheme(OpenApiAuthenticationExtension):
    target_class = CrowdKeyCredentials
    name = ["crowdApiKey", "crowdBasic"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "X-Heat-API-Key",
                "description": "A crowd API key (live, or test_... for staging).",
            },
            {
                "type": "http",
                "scheme": "basic",
                "description": 'The crowd API key as the user name, no password (curl -u "KEY:").',
            },
        ]

    def get_security_requirement(self, auto_schema):
        return [{"crowdApiKey": []}, {"crowdBasic": []}]


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


# --- Operations -------------------------------------------------------------------------------

BLOCK = OpenApiParameter(
    "block",
    {"type": "number", "minimum": 0},
    description=(
        "Wait up to this many seconds (at most CROWD_MAX_BLOCK_SECONDS, 60 by default) for the "
        "request to complete before answering."
    ),
)
REQUEST_ID = OpenApiParameter(
    "id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    examples=[OpenApiExample("The document's sample request", value=SAMPLE_REQUEST_ID)],
)


class CrowdSchemaView(FamilyAPIView):
    """Base of the describing views; never routed."""

    error_family = CROWD
    authentication_classes = [CrowdKeyCredentials]
    permission_classes = [permissions.IsAuthenticated]


def _create_view(request_type: str) -> type[CrowdSchemaView]:
    name = "".join(part.title() for part in request_type.split("-"))

    class CreateView(CrowdSchemaView):
        @extend_schema(
            operation_id=f"crowd_create_{request_type.replace('-', '_')}",
            summary=f"Create a {request_type} request",
            tags=["crowd"],
            parameters=[BLOCK],
            request=REQUEST_BODIES[request_type],
            responses={200: CrowdRequestOutput},
        )
        def post(self, request):
            raise NotImplementedError  # served by crowd_app.api.views.requests_endpoint

    CreateView.__name__ = CreateView.__qualname__ = f"Create{name}RequestView"
    return CreateView


class RetrieveView(CrowdSchemaView):
    @extend_schema(
        operation_id="crowd_retrieve",
        summary="Retrieve a request",
        tags=["crowd"],
        parameters=[REQUEST_ID, BLOCK],
        responses={200: CrowdRequestOutput},
    )
    def get(self, request, id):
        raise NotImplementedError  # served by crowd_app.api.views.requests_endpoint


class AbortView(CrowdSchemaView):
    @extend_schema(
        operation_id="crowd_abort",
        summary="Abort a pending request",
        tags=["crowd"],
        parameters=[REQUEST_ID],
        request=None,
        responses={
            200: AbortResult,
            400: OpenApiResponse(
                {
                    "anyOf": [
                        {"$ref": "#/components/schemas/AbortResult"},
                        {"$ref": "#/components/schemas/CrowdError"},
                    ]
                },
                description='{"success": false, "message"} when the request is no longer pending; '
                "the crowd error body for an unreadable request",
            ),
            **error_responses(401, 404, 429),
        },
    )
    def post(self, request, id):
        raise NotImplementedError  # served by crowd_app.api.views.abort_endpoint


def _path(url_name: str, segment: str) -> str:
    return reverse(url_name, kwargs={"segment": segment})


def crowd_endpoints(endpoints):
    """drf-spectacular preprocessing hook: the crowd API's operations."""
    placeholder = "00000000-0000-0000-0000-000000000000"
    added = []
    for request_type in RequestType.values:
        path = _path("crowd-requests", request_type)
        added.append((path, f"^{path}$", "POST", _create_view(request_type).as_view()))
    by_id = _path("crowd-requests", placeholder).replace(placeholder, "{id}")
    added.append((by_id, "^" + by_id.replace("{id}", "(?P<id>[^/]+)") + "$", "GET", RetrieveView.as_view()))
    abort = _path("crowd-abort", placeholder).replace(placeholder, "{id}")
    added.append((abort, "^" + abort.replace("{id}", "(?P<id>[^/]+)") + "$", "POST", AbortView.as_view()))
    return [*endpoints, *added]


__all__ = ["CrowdError", "crowd_endpoints"]
