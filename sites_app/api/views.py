"""The energy sites public API (document 002) and the gateway API: thin views that validate
the body (``inputs``), call a selector or a service, and build the body (``outputs``).
Errors answer as ``{"error", "message", "details"?}`` (``heatportal.api.errors.SITES``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions

from heatportal.api.errors import SITES
from heatportal.api.schema import error_responses
from heatportal.api.views import ApiView, ModelT, render
from heatportal.health import database_health
from heatportal.services import NotFound, ServiceError
from sites_app import selectors, services
from sites_app.api import history, outputs
from sites_app.api import schema as doc
from sites_app.api.authentication import (
    DeviceTokenAuthentication,
    PerKeyRateThrottle,
    SiteApiKeyAuthentication,
)
from sites_app.api.inputs import ScheduleAckIn, ScheduleBatchIn, SitesInput, TelemetryBatchIn, TelemetryIn
from sites_app.api.schema import SitesAutoSchema
from sites_app.models import ScheduleBatch, Site, SiteApiKey, SiteDeviceToken

SITE_NOT_FOUND = "Site not found"


def _json(body: bytes) -> HttpResponse:
    return HttpResponse(body, content_type="application/json")


class SitesView(ApiView):
    """Base of the public API views: API key, per-key rate limit, the sites error body."""

    error_family = SITES
    authentication_classes = [SiteApiKeyAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [PerKeyRateThrottle]
    schema = SitesAutoSchema()
    path_examples = {"site_id": "123e4567-e89b-12d3-a456-426614174000"}  # document 002's site

    def throttled(self, request, wait):
        raise exceptions.Throttled(
            wait=wait,
            detail=(
                f"Rate limit exceeded: at most {settings.SITES_API_RATE_LIMIT} requests per "
                f"{settings.SITES_API_RATE_WINDOW} seconds per key. Retry after {int(wait)} seconds."
            ),
        )

    def validated(self, model: type[ModelT], data: Any = None) -> ModelT:
        """The body as ``model``; a sites input model refuses it in document 002's shape
        (``SitesInput.parse``)."""
        body = self.data if data is None else data
        if issubclass(model, SitesInput):
            return model.parse(body)
        return super().validated(model, body)

    @property
    def api_key(self) -> SiteApiKey:
        """The request's key (SiteApiKeyAuthentication sets ``request.auth``)."""
        return cast(SiteApiKey, self.request.auth)

    def site_id(self, site_id: str) -> uuid.UUID:
        try:
            return uuid.UUID(site_id)
        except ValueError:
            raise NotFound(SITE_NOT_FOUND) from None

    def site_or_404(self, site_id: str) -> Site:
        site = selectors.site_get(access_group_id=self.api_key.access_group_id, site_id=self.site_id(site_id))
        if site is None:  # another group's site is just as absent as a missing one
            raise NotFound(SITE_NOT_FOUND)
        return site


def site_list_body(*, access_group_id: int, now: datetime | None = None) -> bytes:
    """``GET /sites``'s body: the group's site keys (one query), then the cached body or the
    fragments of the sites that changed (two more queries)."""
    at = now or timezone.now()

    def load(keys: list[str]) -> dict[str, selectors.SiteState]:
        return selectors.site_state_list(access_group_id=access_group_id, keys=keys, now=at)

    keys = selectors.site_revision_keys(access_group_id=access_group_id)
    return outputs.site_list_body(access_group_id=access_group_id, keys=keys, load=load, now=at)


def site_detail_fresh(site: Site, *, now: datetime | None = None) -> dict[str, Any]:
    """A site as ``GET /sites/{siteId}`` shows it, read afresh (three queries, no cache)."""
    now = now or timezone.now()
    assets, rows = selectors.site_detail(site_id=site.pk, now=now)
    return outputs.site_detail(site, assets, rows, now=now)


ERRORS = error_responses(
    401, 429, d401="Missing, malformed, unknown, revoked or expired API key", d429="Rate limit exceeded"
)


class SiteListView(SitesView):
    operation_name = "listSites"

    @extend_schema(
        summary="List sites",
        description=(
            "Every site of the key's access group, with connectivity and the schedules that have not ended."
        ),
        responses={200: doc.SiteList, **ERRORS},
    )
    def get(self, request):
        return _json(site_list_body(access_group_id=request.auth.access_group_id))


class SiteDetailView(SitesView):
    operation_name = "getSite"

    @extend_schema(
        summary="Get a site",
        description="The site with its aggregated assets (rated power, BESS capacity, latest values).",
        responses={200: doc.SiteDetail, **ERRORS},
    )
    def get(self, request, site_id: str):
        now = timezone.now()
        state = selectors.site_state(
            access_group_id=request.auth.access_group_id, site_id=self.site_id(site_id)
        )
        if state is None:  # another group's site is just as absent as a missing one
            raise NotFound(SITE_NOT_FOUND)
        return _json(
            outputs.site_detail_body(
                state, load=lambda pk: selectors.site_detail(site_id=pk, now=now), now=now
            )
        )


class SiteSchedulesView(SitesView):
    operation_name = "postSchedules"

    @extend_schema(
        summary="Send schedule commands",
        request=doc.ScheduleCommandsInput,
        responses={
            202: doc.ScheduleAccepted,
            **error_responses(400, d400="validation_error with a details list; nothing is stored"),
            **ERRORS,
        },
    )
    def post(self, request, site_id: str):
        site = self.site_or_404(site_id)  # an unknown site is a 404, whatever the body
        batch = services.schedule_batch_apply(
            site=site,
            commands=self.validated(ScheduleBatchIn),
            api_key=request.auth,
            source=ScheduleBatch.Source.API,
        )
        return render(outputs.schedule_accepted(batch), status=202)


class SiteTelemetryView(SitesView):
    """The site's telemetry history (issue 14; docs/sites_app.md, "Telemetry history"): three
    queries (the site, its assets, its reports along the history's primary key) whatever the
    range, the CSV streamed as the reports are read."""

    operation_name = "getSiteTelemetry"

    @extend_schema(
        summary="Telemetry history of a site",
        description=(
            "The site's reports in [from, to): every report (raw), or buckets of 5, 15 or 60 "
            "minutes aligned to UTC, each stamped with its start, power the mean of the reports "
            "in it, the BESS's soc and available capacity the last value in it. A bucket with no "
            "report makes no point. JSON, or CSV with format=csv or Accept: text/csv."
        ),
        parameters=doc.TELEMETRY_PARAMETERS,
        responses={
            (200, "application/json"): OpenApiResponse(
                doc.TelemetryHistory, description="The points, as JSON (the default) or as CSV."
            ),
            (200, history.CSV_TYPE): OpenApiResponse(
                OpenApiTypes.STR,
                description=(
                    "The same points as CSV (streamed, an attachment): a header row "
                    "`t,grid_activePowerkW,...,bess_soc,bess_availableStorageCapacitykWh` "
                    "(the site's assets), then one row per point; empty cells for no value."
                ),
            ),
            **error_responses(
                400, d400="validation_error: a parameter that does not parse, from >= to, or a range too long"
            ),
            **ERRORS,
        },
    )
    def get(self, request, site_id: str):
        site = self.site_or_404(site_id)  # an unknown site is a 404, whatever the query
        query = history.history_query(
            request.GET, preferred_type=request.get_preferred_type(history.MEDIA_TYPES), now=timezone.now()
        )
        points = selectors.telemetry_points(
            site_id=site.pk, start=query.start, end=query.end, resolution=query.resolution
        )
        if query.csv:
            return history.csv_response(
                site.pk, query, points, site_assets=lambda: selectors.asset_types(site_id=site.pk)
            )
        response = _json(history.history_body(site.pk, query, points))
        response["Vary"] = "Accept"
        return response


class HealthView(SitesView):
    operation_name = "health"
    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = []

    @extend_schema(summary="Health", responses={204: None, **error_responses(503)})
    def get(self, request):
        if not database_health().ok:
            raise ServiceError("Service unavailable. Please try again later.", status=503)
        return HttpResponse(status=204)


# --- Gateway API --------------------------------------------------------------------------------


class GatewayView(SitesView):
    """Base of the gateway views: the site's device token; ``self.site`` is its site (as read
    with the token, possibly a second old: use its id, read what must be current)."""

    authentication_classes = [DeviceTokenAuthentication]

    @property
    def site(self) -> Site:
        return cast(SiteDeviceToken, self.request.auth).site


class GatewayTelemetryView(GatewayView):
    operation_name = "postTelemetry"

    @extend_schema(
        summary="Report telemetry: one report, or a batch of up to 1,000",
        description=(
            'One report (as ever), or `{"reports": [...]}`: a backlog in any order. Every report '
            "is kept in the history, once per reportedAt; the newest becomes the current state "
            "unless a newer one is stored. A batch with any invalid report is refused whole, "
            "each problem naming its `report` index."
        ),
        request=doc.TelemetryBody,
        responses={
            200: doc.TelemetryAnswer,
            **error_responses(400, d400="Refused; nothing changed (details name report, asset and field)"),
        },
    )
    def post(self, request):
        body = self.data
        if isinstance(body, dict) and "reports" in body:
            batch = services.telemetry_batch_record(site=self.site, payload=self.validated(TelemetryBatchIn))
            return outputs.telemetry_batch_result(batch)
        result = services.telemetry_record(site=self.site, payload=self.validated(TelemetryIn))
        return outputs.telemetry_result(result)


class GatewaySchedulesView(GatewayView):
    operation_name = "getSchedules"

    @extend_schema(
        summary="Current schedules of the gateway's site",
        description=(
            "Answers with a strong `ETag` (a digest of the body). Send it back as `If-None-Match` "
            "to get `304 Not Modified` with no body while the schedules are the same."
        ),
        parameters=[doc.IF_NONE_MATCH, doc.ETAG],
        responses={
            200: doc.GatewaySchedules,
            304: OpenApiResponse(description="Not modified: the If-None-Match tag is current; no body."),
        },
    )
    def get(self, request):
        site_id = self.site.pk
        body = outputs.gateway_schedules(site_id, selectors.schedule_entry_list(site_id=site_id))
        return outputs.tagged(body, if_none_match=request.headers.get("If-None-Match", ""))


class GatewayScheduleAckView(GatewayView):
    operation_name = "acknowledgeSchedules"

    @extend_schema(
        summary="Acknowledge that the gateway applied a schedule batch",
        description=(
            "Records when the gateway applied the batch (`appliedAt`) and when the portal heard so. "
            "The first acknowledgement counts: a repeated one changes nothing and answers the same."
        ),
        request=doc.ScheduleAckInput,
        responses={
            200: doc.ScheduleAcknowledged,
            **error_responses(
                400,
                404,
                d400="validation_error with details naming the field",
                d404="Schedule batch not found",
            ),
        },
    )
    def post(self, request):
        ack = self.validated(ScheduleAckIn)
        batch = services.schedule_batch_acknowledge(
            site=self.site, batch_id=ack.batchId, applied_at=ack.appliedAt
        )
        return outputs.schedule_acknowledged(batch)


class GatewaySiteView(GatewayView):
    operation_name = "getSite"

    @extend_schema(summary="The gateway's site and its assets", responses=doc.SiteDetail)
    def get(self, request):
        site = selectors.site_get(access_group_id=self.site.access_group_id, site_id=self.site.pk)
        if site is None:  # deleted since its token was read
            raise NotFound(SITE_NOT_FOUND)
        return site_detail_fresh(site)
