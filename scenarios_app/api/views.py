"""The scenario runner's API (document 003): parse, call a selector or service, render.

Error bodies follow the FastAPI server the API was first written for (CONTRACT §4):
``{"detail": "<message>"}`` for 400/404/409, and for 422 a list of
``{"type", "loc", "msg", "input"}`` as Pydantic gives them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from heatportal.accounts.authentication import BearerTokenAuthentication
from heatportal.api.errors import SCENARIOS, FamilyAPIView, RequestError
from heatportal.api.input import BadInput, parse_json
from heatportal.api.parsers import InvalidBody, JSONParser
from heatportal.api.schema import error_responses
from scenarios_app import algorithms, datasets, etl, kpis, selectors, services
from scenarios_app.api import schema as doc
from scenarios_app.api.serializers import scenario_payload, session_list_payload
from scenarios_app.models import RunnerSession
from scenarios_app.parameters import describe

CONFLICT = error_responses(409)
ETL_FORM = {
    "multipart/form-data": {
        "type": "object",
        "properties": {
            "dataset_name": {"type": "string"},
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
        },
        "required": ["dataset_name", "files"],
    }
}


class UnprocessableEntity(exceptions.APIException):
    """422 with Pydantic-style error items (``details`` is rendered as ``detail``)."""

    status_code = 422
    default_detail = "Unprocessable entity"

    def __init__(self, errors: list[dict]):
        super().__init__(detail="Unprocessable entity")
        self.details = errors


MAX_NAME_LENGTH = 200  # display names, tags, dataset keys (the columns' length)


def _error(kind: str, name: str | None, msg: str, value: Any, **ctx: Any) -> dict:
    item = {"type": kind, "loc": ["body", name] if name else ["body"], "msg": msg, "input": value}
    if ctx:
        item["ctx"] = ctx
    return item


def _bad_input_error(error: BadInput) -> dict:
    """A value refused by heatportal.api.input, as a Pydantic error item (the value is not
    echoed: it is the text that could not be stored)."""
    return {"type": error.kind, "loc": ["body", *error.loc], "msg": error.message, "input": None}


def check_body(data: Any, fields: dict[str, tuple[str, bool]]) -> dict:
    """Validate a JSON body the way the original Pydantic models did.

    ``fields`` maps a name to ``(kind, required)``; kinds: ``name`` (a non-empty string),
    ``object`` (a JSON object or null).
    """
    if not isinstance(data, dict):
        raise UnprocessableEntity(
            [
                _error(
                    "model_attributes_type",
                    None,
                    "Input should be a valid dictionary or object to extract fields from",
                    data,
                )
            ]
        )
    errors, clean = [], {}
    for name, (kind, required) in fields.items():
        if name not in data:
            if required:
                errors.append(_error("missing", name, "Field required", data))
            continue
        value = data[name]
        if kind == "name":
            if not isinstance(value, str):
                errors.append(_error("string_type", name, "Input should be a valid string", value))
            elif not value.strip():
                errors.append(
                    _error(
                        "string_too_short",
                        name,
                        "String should have at least 1 character",
                        value,
                        min_length=1,
                    )
                )
            elif len(value) > MAX_NAME_LENGTH:
                errors.append(
                    _error(
                        "string_too_long",
                        name,
                        f"String should have at most {MAX_NAME_LENGTH} characters",
                        value,
                        max_length=MAX_NAME_LENGTH,
                    )
                )
            else:
                clean[name] = value
        elif kind == "object":
            if value is not None and not isinstance(value, dict):
                errors.append(_error("dict_type", name, "Input should be a valid dictionary", value))
            else:
                clean[name] = value
    if errors:
        raise UnprocessableEntity(errors)
    return clean


class RunnerView(FamilyAPIView):
    """Base of the runner's views: bearer tokens (and the portal's own session, for its pages'
    polling), the runner's error body, service errors mapped to HTTP."""

    error_family = SCENARIOS
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser]
    pagination_class = None
    # The demo data's names (seed_demo), as examples in the schema.
    path_examples = {"sid": "main", "scenario_id": "slow-5s", "key": "Master data", "name": "Slow"}

    def handle_exception(self, exc):
        if isinstance(exc, services.ServiceError):
            exc = RequestError(exc.status, exc.message)
        elif isinstance(exc, InvalidBody) and exc.bad_input.kind != "json_invalid":
            exc = UnprocessableEntity([_bad_input_error(exc.bad_input)])
        elif isinstance(exc, exceptions.ParseError):
            exc = UnprocessableEntity([_error("json_invalid", None, "JSON decode error", str(exc.detail))])
        elif isinstance(exc, BadInput):  # a value its column cannot hold, found when saving
            exc = UnprocessableEntity([_bad_input_error(exc)])
        return super().handle_exception(exc)

    def body(self, request, fields: dict[str, tuple[str, bool]]) -> dict:
        return check_body(request.data, fields)

    @staticmethod
    def runner_session(sid: str) -> RunnerSession:
        session = selectors.session_by_sid(sid)
        if session is None:
            raise services.NotFound(f"Session '{sid}' not found.")
        return session

    def scenario(self, sid: str, scenario_id: str):
        session = self.runner_session(sid)
        scenario = selectors.scenario_by_id(session, scenario_id)
        if scenario is None:
            raise services.NotFound(f"Scenario '{scenario_id}' not found.")
        return scenario

    def dataset(self, sid: str, key: str):
        session = self.runner_session(sid)
        dataset = selectors.dataset_by_key(session, key)
        if dataset is None:
            raise services.NotFound(f"Dataset '{key}' not found.")
        return dataset


def _session_list() -> dict:
    services.session_ensure_default()
    return session_list_payload(selectors.sessions())


# --- Global -----------------------------------------------------------------------------------


class HealthView(RunnerView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(summary="Liveness probe", responses=doc.HealthOutput)
    def get(self, request):
        services.session_ensure_default()
        names = list(selectors.sessions().values_list("display_name", flat=True))
        return Response({"status": "ok", "title": settings.SCENARIOS_TITLE, "sessions": names})


# --- Sessions ---------------------------------------------------------------------------------


class SessionsView(RunnerView):
    @extend_schema(summary="List sessions", responses=doc.SessionListOutput)
    def get(self, request):
        return Response(_session_list())

    @extend_schema(
        summary="Create a session",
        request=doc.SessionCreate,
        responses={201: doc.SessionListOutput, **CONFLICT},
    )
    def post(self, request):
        data = self.body(request, {"display_name": ("name", True)})
        services.session_create(display_name=data["display_name"])
        return Response(_session_list(), status=201)


class SessionCopyView(RunnerView):
    @extend_schema(
        summary="Copy a session",
        request=doc.SessionCopy,
        responses={201: doc.SessionListOutput, **CONFLICT},
    )
    def post(self, request, sid: str):
        session = self.runner_session(sid)
        data = self.body(request, {"new_display_name": ("name", True)})
        services.session_copy(session=session, new_display_name=data["new_display_name"])
        return Response(_session_list(), status=201)


class SessionDetailView(RunnerView):
    @extend_schema(
        summary="Rename a session",
        request=doc.SessionCreate,
        responses={200: doc.SessionRow, **CONFLICT},
    )
    def patch(self, request, sid: str):
        session = self.runner_session(sid)
        data = self.body(request, {"display_name": ("name", True)})
        session = services.session_rename(session=session, display_name=data["display_name"])
        return Response({"id": str(session.pk), "display_name": session.display_name})

    @extend_schema(
        summary="Delete a session",
        description="Answers the remaining sessions; deleting the last one leaves a fresh 'main'.",
        responses={200: doc.SessionListOutput},
    )
    def delete(self, request, sid: str):
        services.session_delete(session=self.runner_session(sid))
        return Response(_session_list())


# --- Algorithms and KPIs ----------------------------------------------------------------------


class AlgorithmsView(RunnerView):
    @extend_schema(summary="List algorithm templates", responses=doc.AlgorithmListOutput)
    def get(self, request, sid: str):
        session = self.runner_session(sid)
        names = [name for name in session.algorithms if name in algorithms.REGISTRY]
        return Response({"algorithms": names})


class AlgorithmParametersView(RunnerView):
    @extend_schema(summary="Parameter schema of an algorithm", responses=doc.AlgorithmParametersOutput)
    def get(self, request, sid: str, name: str):
        session = self.runner_session(sid)
        if name not in session.algorithms or name not in algorithms.REGISTRY:
            raise services.NotFound(f"Algorithm '{name}' not found.")
        return Response({"name": name, "parameters": describe(algorithms.REGISTRY[name].parameters)})


class KpisView(RunnerView):
    @extend_schema(summary="List KPI templates", responses=doc.KpiListOutput)
    def get(self, request, sid: str):
        session = self.runner_session(sid)
        return Response({"kpis": [name for name in session.kpis if name in kpis.REGISTRY]})


# --- Scenarios --------------------------------------------------------------------------------

SCENARIO_FIELDS = {
    "tag": ("name", True),
    "dataset_key": ("name", True),
    "algo_name": ("name", True),
    "algo_params": ("object", False),
    "data_params": ("object", False),
}


class ScenariosView(RunnerView):
    @extend_schema(
        summary="List the session's scenarios",
        operation_id="api_v1_sessions_scenarios_list",
        responses=doc.ScenarioOutput(many=True),
    )
    def get(self, request, sid: str):
        session = self.runner_session(sid)
        scenarios = selectors.session_scenarios(session)
        return Response([scenario_payload(scenario, session=session) for scenario in scenarios])

    @extend_schema(
        summary="Create a scenario",
        request=doc.ScenarioCreate,
        responses={201: doc.ScenarioOutput, **CONFLICT},
    )
    def post(self, request, sid: str):
        session = self.runner_session(sid)
        data = self.body(request, SCENARIO_FIELDS)
        scenario = services.scenario_create(
            session=session,
            tag=data["tag"],
            dataset_key=data["dataset_key"],
            algo_name=data["algo_name"],
            algo_params=data.get("algo_params"),
            data_params=data.get("data_params"),
        )
        return Response(scenario_payload(scenario, session=session), status=201)


class ScenarioDetailView(RunnerView):
    @extend_schema(summary="Get a scenario", responses=doc.ScenarioOutput)
    def get(self, request, sid: str, scenario_id: str):
        return Response(scenario_payload(self.scenario(sid, scenario_id)))

    @extend_schema(summary="Delete a scenario", responses={204: None})
    def delete(self, request, sid: str, scenario_id: str):
        services.scenario_delete(scenario=self.scenario(sid, scenario_id))
        return Response(status=204)


class ScenarioRunView(RunnerView):
    @extend_schema(
        summary="Enqueue a scenario (202)", request=None, responses={202: doc.ScenarioOutput, **CONFLICT}
    )
    def post(self, request, sid: str, scenario_id: str):
        scenario = self.scenario(sid, scenario_id)
        scenario = services.scenario_run(scenario=scenario)
        return Response(scenario_payload(scenario), status=202)


class ScenarioResetView(RunnerView):
    @extend_schema(
        summary="Reset a scenario to created", request=None, responses={200: doc.ScenarioOutput, **CONFLICT}
    )
    def post(self, request, sid: str, scenario_id: str):
        scenario = services.scenario_reset(scenario=self.scenario(sid, scenario_id))
        return Response(scenario_payload(scenario))


class ScenarioStatusView(RunnerView):
    """The poll endpoint (served by :func:`scenario_status` on its happy path)."""

    @extend_schema(summary="Poll a scenario's status", responses=doc.ScenarioStatusOutput)
    def get(self, request, sid: str, scenario_id: str):
        row = selectors.scenario_status(sid, scenario_id)
        if row is None:
            scenario = self.scenario(sid, scenario_id)  # the right 404, or a lookup by tag
            row = {
                "id": scenario.pk,
                "tag": scenario.tag,
                "status": scenario.status,
                "progress": scenario.progress,
            }
        return Response({**row, "id": str(row["id"])})


_status_view = ScenarioStatusView.as_view()
_bearer = BearerTokenAuthentication()


def scenario_status(request, sid: str, scenario_id: str):
    """``GET .../status``, the endpoint clients poll at high frequency: a bearer token and one
    query, without DRF's request cycle. Everything else (the portal's session cookie, errors,
    a scenario named by its tag, other methods) goes through :class:`ScenarioStatusView`."""
    if request.method == "GET":
        try:
            authenticated = _bearer.authenticate(request)
        except exceptions.AuthenticationFailed:
            authenticated = None
        if authenticated is not None:
            row = selectors.scenario_status(sid, scenario_id)
            if row is not None:
                row["id"] = str(row["id"])
                return JsonResponse(row)
    return _status_view(request, sid=sid, scenario_id=scenario_id)


# drf-spectacular documents the endpoint from the view class.
scenario_status.cls = ScenarioStatusView
scenario_status.initkwargs = {}


class ProcessingView(RunnerView):
    @extend_schema(
        summary="The scenario being processed, or null",
        responses=OpenApiResponse(
            {"oneOf": [{"$ref": "#/components/schemas/ScenarioOutput"}], "nullable": True},
            description="The processing scenario, or null when none is",
        ),
    )
    def get(self, request, sid: str):
        session = self.runner_session(sid)
        scenario = selectors.processing_scenario(session)
        if scenario is None:
            return HttpResponse(b"null", content_type="application/json")  # DRF renders None as no body
        return Response(scenario_payload(scenario, session=session))


# --- Data -------------------------------------------------------------------------------------


class DataView(RunnerView):
    @extend_schema(
        summary="List dataset keys", operation_id="api_v1_sessions_data_keys", responses=doc.DatasetKeysOutput
    )
    def get(self, request, sid: str):
        return Response({"keys": selectors.dataset_keys(self.runner_session(sid))})


class DataDetailView(RunnerView):
    @extend_schema(summary="A dataset as JSON", responses=doc.DatasetPayload)
    def get(self, request, sid: str, key: str):
        return Response(services.dataset_to_json(self.dataset(sid, key)))

    @extend_schema(summary="Delete a dataset", responses={204: None, **CONFLICT})
    def delete(self, request, sid: str, key: str):
        services.dataset_delete(dataset=self.dataset(sid, key))
        return Response(status=204)


class DataParametersView(RunnerView):
    @extend_schema(
        summary="Data-source parameters a scenario may override", responses=doc.DatasetParametersOutput
    )
    def get(self, request, sid: str, key: str):
        dataset = self.dataset(sid, key)
        return Response({"key": dataset.key, "parameters": describe(datasets.data_parameter_schema())})


class DataDeriveView(RunnerView):
    @extend_schema(
        summary="Derive a dataset",
        request=doc.DatasetDerive,
        responses={201: doc.DatasetKeysOutput, **CONFLICT},
    )
    def post(self, request, sid: str, key: str):
        dataset = self.dataset(sid, key)
        data = self.body(request, {"new_key": ("name", True)})
        services.dataset_derive(dataset=dataset, new_key=data["new_key"])
        return Response({"keys": selectors.dataset_keys(dataset.session)}, status=201)


class DataFromJsonView(RunnerView):
    parser_classes = []  # the raw body is the payload

    @extend_schema(
        summary="Ingest a dataset's to_json() payload",
        request={
            "application/json": {
                "anyOf": [
                    {"$ref": "#/components/schemas/DatasetPayload"},
                    {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/DatasetPayload"},
                        "minItems": 1,
                    },
                ]
            }
        },
        responses={201: doc.DatasetKeysOutput, **CONFLICT},
    )
    def post(self, request, sid: str):
        session = self.runner_session(sid)
        try:
            raw = request.body
        except RequestDataTooBig as error:
            raise RequestError(413, "The dataset is too large for this endpoint; use POST /etl.") from error
        if not raw.strip():
            raise RequestError(400, "Empty body.")
        try:
            payload = parse_json(raw)
        except BadInput as error:
            if error.kind == "json_invalid":
                raise RequestError(400, f"Malformed JSON: {error.message}") from None
            raise RequestError(400, f"The dataset is not valid: {error}") from None
        services.dataset_ingest_json(session=session, payload=payload)
        return Response({"keys": selectors.dataset_keys(session)}, status=201)


class EtlView(RunnerView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="ETL from uploaded .csv, .json and .xlsx files",
        request=ETL_FORM,
        responses={200: doc.EtlOutput, **CONFLICT},
    )
    def post(self, request, sid: str):
        session = self.runner_session(sid)
        size = int(request.META.get("CONTENT_LENGTH") or 0)
        if size > settings.SCENARIOS_ETL_MAX_BYTES:
            raise RequestError(
                413, f"The upload is {size} bytes; at most {settings.SCENARIOS_ETL_MAX_BYTES} are accepted."
            )
        dataset_name = request.data.get("dataset_name")
        if dataset_name is not None and (len(dataset_name) > MAX_NAME_LENGTH or "\x00" in dataset_name):
            raise UnprocessableEntity(
                [
                    _error(
                        "string_too_long",
                        "dataset_name",
                        f"String should have at most {MAX_NAME_LENGTH} characters",
                        dataset_name,
                        max_length=MAX_NAME_LENGTH,
                    )
                ]
            )
        if dataset_name is None or not str(dataset_name).strip():
            kind, msg = ("missing", "Field required") if dataset_name is None else (
                "string_too_short", "String should have at least 1 character"
            )  # fmt: skip
            raise UnprocessableEntity(
                [{"type": kind, "loc": ["body", "dataset_name"], "msg": msg, "input": None}]
            )
        if request.POST.getlist("files") and not request.FILES.getlist("files"):
            raise services.Invalid("An upload is missing a filename.")
        result = etl.etl_run(
            session=session, dataset_name=str(dataset_name), uploads=request.FILES.getlist("files")
        )
        return Response(result.to_dict())
