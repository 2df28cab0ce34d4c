"""The scenario runner's API (document 003): validate, call a selector or service, build the body.

Error bodies follow the FastAPI server the API was first written for (CONTRACT §4):
``{"detail": "<message>"}`` for 400/404/409/413, and for 422 Pydantic's list of
``{"type", "loc", "msg", "input"}`` (:mod:`scenarios_app.api.inputs`); both come from
:func:`heatportal.api.errors.error_for` with the ``SCENARIOS`` family.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions

from heatportal import permissions as access
from heatportal.accounts.authentication import BearerTokenAuthentication
from heatportal.api.authentication import SessionCookieAuthentication
from heatportal.api.errors import SCENARIOS, RequestError
from heatportal.api.input import BadInput, parse_json
from heatportal.api.parsers import JSONParser
from heatportal.api.schema import error_responses
from heatportal.api.views import ApiView, render
from heatportal.services import ServiceError
from scenarios_app import algorithms, datasets, etl, kpis, selectors, services
from scenarios_app.api import inputs, outputs
from scenarios_app.api import schema as doc
from scenarios_app.models import Dataset, RunnerSession, Scenario
from scenarios_app.parameters import describe
from scenarios_app.site_link import Price

CONFLICT = error_responses(409)
NOT_FOUND = error_responses(404)
FORBIDDEN = error_responses(403)  # heatportal.permissions: not the owner, not an administrator
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


class RunnerView(ApiView):
    """Base of the runner's views: bearer tokens (and the portal's signed-in session, for its
    pages' polling), the runner's error body."""

    error_family = SCENARIOS
    authentication_classes = [BearerTokenAuthentication, SessionCookieAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser]  # what the schema documents; bodies are read by ApiView
    # The demo data's names (seed_demo), as examples in the schema.
    path_examples = {"sid": "main", "scenario_id": "slow-5s", "key": "Master data", "name": "Slow"}

    def require(self, action: str, obj) -> None:
        """403 unless the request's user may do ``action`` to ``obj`` (heatportal.permissions)."""
        access.require(self.request.user, action, obj)

    @staticmethod
    def runner_session(sid: str) -> RunnerSession:
        session = selectors.session_get(sid=sid)
        if session is None:
            raise services.NotFound(f"Session '{sid}' not found.")
        return session

    def scenario(self, sid: str, scenario_id: str) -> Scenario:
        """The scenario with its session and dataset: one query when it exists."""
        scenario = selectors.scenario_get(sid=sid, scenario_id=scenario_id)
        return scenario if scenario is not None else self.scenario_step_by_step(sid, scenario_id)

    def scenario_step_by_step(self, sid: str, scenario_id: str) -> Scenario:
        """The session, then its scenario: the 404 that names what is missing."""
        scenario = selectors.scenario_get(session=self.runner_session(sid), scenario_id=scenario_id)
        if scenario is None:
            raise services.NotFound(f"Scenario '{scenario_id}' not found.")
        return scenario

    def dataset(self, sid: str, key: str) -> Dataset:
        session = self.runner_session(sid)
        dataset = selectors.dataset_get(session=session, key=key)
        if dataset is None:
            raise services.NotFound(f"Dataset '{key}' not found.")
        return dataset


def _session_list() -> dict:
    return outputs.session_list_output(selectors.session_list().only("id", "display_name"))


# --- Global -----------------------------------------------------------------------------------


class HealthView(RunnerView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(summary="Liveness probe", responses=doc.HealthOutput)
    def get(self, request):
        names = list(selectors.session_list().values_list("display_name", flat=True))
        return {"status": "ok", "title": settings.SCENARIOS_TITLE, "sessions": names}


# --- Sessions ---------------------------------------------------------------------------------


class SessionsView(RunnerView):
    @extend_schema(summary="List sessions", responses=doc.SessionListOutput)
    def get(self, request):
        return _session_list()

    @extend_schema(
        summary="Create a session",
        request=doc.SessionCreate,
        responses={201: doc.SessionListOutput, **CONFLICT},
    )
    def post(self, request):
        body = self.validated(inputs.SessionCreate)
        services.session_create(display_name=body.display_name, owner=request.user)
        return render(_session_list(), status=201)


class SessionCopyView(RunnerView):
    @extend_schema(
        summary="Copy a session",
        request=doc.SessionCopy,
        responses={201: doc.SessionListOutput, **CONFLICT},
    )
    def post(self, request, sid: str):
        session = self.runner_session(sid)
        body = self.validated(inputs.SessionCopy)
        services.session_copy(session=session, new_display_name=body.new_display_name, owner=request.user)
        return render(_session_list(), status=201)


class SessionDetailView(RunnerView):
    @extend_schema(
        summary="Rename a session",
        request=doc.SessionCreate,
        responses={200: doc.SessionRow, **CONFLICT, **FORBIDDEN},
    )
    def patch(self, request, sid: str):
        session = self.runner_session(sid)
        body = self.validated(inputs.SessionCreate)
        self.require("runner.change", session)
        session = services.session_rename(session=session, display_name=body.display_name)
        return outputs.session_output(session)

    @extend_schema(
        summary="Delete a session",
        description="Answers the remaining sessions; deleting the last one leaves a fresh 'main'.",
        responses={200: doc.SessionListOutput, **FORBIDDEN},
    )
    def delete(self, request, sid: str):
        session = self.runner_session(sid)
        self.require("runner.delete", session)
        services.session_delete(session=session)
        return _session_list()


# --- Algorithms and KPIs ----------------------------------------------------------------------


class AlgorithmsView(RunnerView):
    @extend_schema(summary="List algorithm templates", responses=doc.AlgorithmListOutput)
    def get(self, request, sid: str):
        session = self.runner_session(sid)
        return {"algorithms": [name for name in session.algorithms if name in algorithms.REGISTRY]}


class AlgorithmParametersView(RunnerView):
    @extend_schema(summary="Parameter schema of an algorithm", responses=doc.AlgorithmParametersOutput)
    def get(self, request, sid: str, name: str):
        session = self.runner_session(sid)
        if name not in session.algorithms or name not in algorithms.REGISTRY:
            raise services.NotFound(f"Algorithm '{name}' not found.")
        return {"name": name, "parameters": describe(algorithms.REGISTRY[name].parameters)}


class KpisView(RunnerView):
    @extend_schema(summary="List KPI templates", responses=doc.KpiListOutput)
    def get(self, request, sid: str):
        session = self.runner_session(sid)
        return {"kpis": [name for name in session.kpis if name in kpis.REGISTRY]}


# --- Scenarios --------------------------------------------------------------------------------


class ScenariosView(RunnerView):
    @extend_schema(
        summary="List the session's scenarios",
        operation_id="api_v1_sessions_scenarios_list",
        responses=doc.ScenarioOutput(many=True),
    )
    def get(self, request, sid: str):
        found = selectors.scenario_table(sid=sid)  # the common case: one query
        if found is None:  # the 404, or a display name that looks like a UUID
            session = self.runner_session(sid)
            return [
                outputs.scenario_output(scenario, session=session)
                for scenario in selectors.scenario_list(session=session, body_only=True)
            ]
        kpi_names, rows = found
        return outputs.scenario_list_output(rows, kpi_names)

    @extend_schema(
        summary="Create a scenario",
        request=doc.ScenarioCreate,
        responses={201: doc.ScenarioOutput, **CONFLICT},
    )
    def post(self, request, sid: str):
        session = self.runner_session(sid)
        body = self.validated(inputs.ScenarioCreate)
        scenario = services.scenario_create(session=session, owner=request.user, **body.model_dump())
        return render(outputs.scenario_output(scenario, session=session), status=201)


class ScenarioDetailView(RunnerView):
    @extend_schema(summary="Get a scenario", responses=doc.ScenarioOutput)
    def get(self, request, sid: str, scenario_id: str):
        return outputs.scenario_output(self.scenario(sid, scenario_id))

    @extend_schema(summary="Delete a scenario", responses={204: None, **FORBIDDEN})
    def delete(self, request, sid: str, scenario_id: str):
        scenario = self.scenario(sid, scenario_id)
        self.require("runner.delete", scenario)
        services.scenario_delete(scenario=scenario)
        return render(None, status=204)


class ScenarioRunView(RunnerView):
    @extend_schema(
        summary="Enqueue a scenario (202)",
        request=None,
        responses={202: doc.ScenarioOutput, **CONFLICT, **FORBIDDEN},
    )
    def post(self, request, sid: str, scenario_id: str):
        scenario = self.scenario(sid, scenario_id)
        self.require("runner.change", scenario)
        return render(outputs.scenario_output(services.scenario_run(scenario=scenario)), status=202)


class ScenarioResetView(RunnerView):
    @extend_schema(
        summary="Reset a scenario to created",
        request=None,
        responses={200: doc.ScenarioOutput, **CONFLICT, **FORBIDDEN},
    )
    def post(self, request, sid: str, scenario_id: str):
        scenario = self.scenario(sid, scenario_id)
        self.require("runner.change", scenario)
        return outputs.scenario_output(services.scenario_reset(scenario=scenario))


class ScenarioApplyView(RunnerView):
    """The scenario's battery dispatch as a schedule batch of a site (Admin only)."""

    @extend_schema(
        summary="Apply a complete scenario's battery dispatch to a site (202)",
        description=(
            "BESS activePowerkW entries from startAt, one per step, runs of equal value (0.1 kW) merged; "
            "validated and recorded as the public API's schedules are (source 'scenario', the scenario's id, "
            "the user as sender). The runner's battery_kw and document 002's BESS activePowerkW share their "
            "sign: + discharge, - charge. 409 when the scenario is not complete."
        ),
        request=doc.ScenarioApply,
        responses={
            202: doc.ScenarioApplyOutput,
            400: OpenApiResponse(doc.ScheduleRefusal, description="Refused by the sites' schedule rules"),
            **NOT_FOUND,
            **CONFLICT,
            **FORBIDDEN,
        },
    )
    def post(self, request, sid: str, scenario_id: str):
        scenario = self.scenario(sid, scenario_id)
        self.require("runner.apply", scenario)
        body = self.validated(inputs.ScenarioApply)
        try:
            batch = services.scenario_apply_to_site(
                scenario=scenario, site_id=body.siteId, start_at=body.startAt, user=request.user
            )
        except ServiceError as refusal:
            if not refusal.details:
                raise
            # The sites' rules name each offending entry: kept beside the runner's detail.
            return render({"detail": refusal.message, "details": refusal.details}, status=refusal.status)
        return render({"batchId": str(batch.batch_id), "accepted": batch.accepted}, status=202)


class ScenarioStatusView(RunnerView):
    """The endpoint clients poll at high frequency: one query (session and scenario joined)."""

    @extend_schema(summary="Poll a scenario's status", responses=doc.ScenarioStatusOutput)
    def get(self, request, sid: str, scenario_id: str):
        row = selectors.scenario_status(sid=sid, scenario_id=scenario_id)
        if row is None:
            scenario = self.scenario_step_by_step(sid, scenario_id)  # the 404, or a rare case
            row = {field: getattr(scenario, field) for field in ("id", "tag", "status", "progress")}
        return outputs.scenario_status_output(row)


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
        scenario = selectors.scenario_processing(session=session)
        return None if scenario is None else outputs.scenario_output(scenario, session=session)


# --- Data -------------------------------------------------------------------------------------


class DataView(RunnerView):
    @extend_schema(
        summary="List dataset keys", operation_id="api_v1_sessions_data_keys", responses=doc.DatasetKeysOutput
    )
    def get(self, request, sid: str):
        return {"keys": selectors.dataset_keys(session=self.runner_session(sid))}


class DataDetailView(RunnerView):
    @extend_schema(summary="A dataset as JSON", responses=doc.DatasetPayload)
    def get(self, request, sid: str, key: str):
        return datasets.dataset_to_json(self.dataset(sid, key))

    @extend_schema(summary="Delete a dataset", responses={204: None, **CONFLICT, **FORBIDDEN})
    def delete(self, request, sid: str, key: str):
        dataset = self.dataset(sid, key)
        self.require("runner.delete", dataset)
        services.dataset_delete(dataset=dataset)
        return render(None, status=204)


class DataParametersView(RunnerView):
    @extend_schema(
        summary="Data-source parameters a scenario may override", responses=doc.DatasetParametersOutput
    )
    def get(self, request, sid: str, key: str):
        dataset = self.dataset(sid, key)
        return {"key": dataset.key, "parameters": describe(datasets.data_parameter_schema())}


class DataDeriveView(RunnerView):
    @extend_schema(
        summary="Derive a dataset",
        request=doc.DatasetDerive,
        responses={201: doc.DatasetKeysOutput, **CONFLICT},
    )
    def post(self, request, sid: str, key: str):
        dataset = self.dataset(sid, key)
        body = self.validated(inputs.DatasetDerive)
        services.dataset_derive(dataset=dataset, new_key=body.new_key, owner=request.user)
        return render({"keys": selectors.dataset_keys(session=dataset.session)}, status=201)


class DataFromJsonView(RunnerView):
    """The body is the payload, read here: its errors are 400 with a message (not 422)."""

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
        responses={201: doc.DatasetKeysOutput, **CONFLICT, **FORBIDDEN},
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
        services.dataset_ingest_json(session=session, payload=payload, owner=request.user)
        return render({"keys": selectors.dataset_keys(session=session)}, status=201)


class DataFromSiteView(RunnerView):
    @extend_schema(
        summary="A dataset from a site's measured history",
        description=(
            "15-minute load (the load asset) and PV (the solar asset) over [from, to), the price from "
            "'prices' (a flat 0.25 EUR/kWh without), the BESS's rated power and capacity as "
            "parameters.parameter_defaults. 400 when more than 10% of the steps have no data, when the "
            "range is empty or longer than 92 days, or the site has no load asset."
        ),
        request=doc.DatasetFromSite,
        responses={201: doc.DatasetKeysOutput, **NOT_FOUND, **CONFLICT},
    )
    def post(self, request, sid: str):
        session = self.runner_session(sid)
        body = self.validated(inputs.DatasetFromSite)
        services.dataset_create_from_site(
            session=session,
            new_key=body.new_key,
            site_id=body.siteId,
            start=body.start,
            end=body.to,
            prices=[Price(point.t, point.value) for point in body.prices or []],
            owner=request.user,
        )
        return render({"keys": selectors.dataset_keys(session=session)}, status=201)


class EtlView(RunnerView):
    @extend_schema(
        summary="ETL from uploaded .csv, .json and .xlsx files",
        request=ETL_FORM,
        responses={200: doc.EtlOutput, **CONFLICT, **FORBIDDEN},
    )
    def post(self, request, sid: str):
        session = self.runner_session(sid)
        size = int(request.META.get("CONTENT_LENGTH") or 0)
        if size > settings.SCENARIOS_ETL_MAX_BYTES:
            raise RequestError(
                413, f"The upload is {size} bytes; at most {settings.SCENARIOS_ETL_MAX_BYTES} are accepted."
            )
        form = self.validated(inputs.EtlForm, {"dataset_name": request.POST.get("dataset_name")})
        if request.POST.getlist("files") and not request.FILES.getlist("files"):
            raise services.Invalid("An upload is missing a filename.")
        result = etl.etl_run(
            session=session,
            dataset_name=form.dataset_name,
            uploads=request.FILES.getlist("files"),
            owner=request.user,
        )
        return result.to_dict()
