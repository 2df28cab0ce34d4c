"""The energy sites public API (document 002) and the gateway API: thin views over the
selectors and services, answering errors as ``{"error", "message", "details"?}``."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, connection
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response

from heatportal.api.errors import SITES, FamilyAPIView, RequestError
from heatportal.api.schema import error_responses
from sites_app import selectors, services
from sites_app.api import schema as doc
from sites_app.api.authentication import (
    DeviceTokenAuthentication,
    PerKeyRateThrottle,
    SiteApiKeyAuthentication,
)
from sites_app.api.schema import SitesAutoSchema
from sites_app.models import ScheduleBatch

SITE_NOT_FOUND = "Site not found"


class SitesView(FamilyAPIView):
    """Base of the public API views: API key, per-key rate limit, the sites error body."""

    error_family = SITES
    authentication_classes = [SiteApiKeyAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [PerKeyRateThrottle]
    pagination_class = None
    schema = SitesAutoSchema()
    path_examples = {"site_id": "123e4567-e89b-12d3-a456-426614174000"}  # document 002's site

    def handle_exception(self, exc):
        if isinstance(exc, services.ServiceError):
            error = RequestError(exc.status, exc.message)
            error.details = exc.details or None
            exc = error
        return super().handle_exception(exc)

    def throttled(self, request, wait):
        raise exceptions.Throttled(
            wait=wait,
            detail=(
                f"Rate limit exceeded: at most {settings.SITES_API_RATE_LIMIT} requests per "
                f"{settings.SITES_API_RATE_WINDOW} seconds per key. Retry after {int(wait)} seconds."
            ),
        )

    def body(self, request):
        """The parsed JSON body; a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 in this API's
        shape (Django would answer its HTML 400 page)."""
        try:
            return request.data
        except RequestDataTooBig as error:
            raise RequestError(413, "Request body too large.") from error

    def site_or_404(self, site_id: str):
        try:
            parsed = uuid.UUID(site_id)
        except ValueError as error:
            raise RequestError(404, SITE_NOT_FOUND) from error
        site = selectors.site_for_group(access_group_id=self.request.auth.access_group_id, site_id=parsed)
        if site is None:  # another group's site is just as absent as a missing one
            raise RequestError(404, SITE_NOT_FOUND)
        return site


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
        body = selectors.site_list_body(access_group_id=request.auth.access_group_id)
        return HttpResponse(body, content_type="application/json")


class SiteDetailView(SitesView):
    operation_name = "getSite"

    @extend_schema(
        summary="Get a site",
        description="The site with its aggregated assets (rated power, BESS capacity, latest values).",
        responses={200: doc.SiteDetail, **ERRORS},
    )
    def get(self, request, site_id: str):
        return Response(selectors.site_detail_payload(self.site_or_404(site_id)))


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
        site = self.site_or_404(site_id)
        data = self.body(request)
        if not isinstance(data, dict) or "schedules" not in data:
            raise RequestError(
                400,
                'The body must be a JSON object with a "schedules" list.',
                {"schedules": ["This field is required."]},
            )
        batch = services.schedule_batch_apply(
            site=site,
            commands=data["schedules"],
            api_key=request.auth,
            source=ScheduleBatch.Source.API,
        )
        return Response({"batchId": str(batch.id), "accepted": batch.accepted}, status=202)


class HealthView(SitesView):
    operation_name = "health"
    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = []

    @extend_schema(summary="Health", responses={204: None, **error_responses(503)})
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            raise RequestError(503, "Service unavailable. Please try again later.") from None
        return HttpResponse(status=204)


# --- Gateway API --------------------------------------------------------------------------------


class GatewayView(SitesView):
    """Base of the gateway views: the site's device token; ``self.site`` is its site."""

    authentication_classes = [DeviceTokenAuthentication]

    @property
    def site(self):
        return self.request.auth.site


class GatewayTelemetryView(GatewayView):
    operation_name = "postTelemetry"

    @extend_schema(
        summary="Report telemetry",
        request=doc.TelemetryInput,
        responses={200: doc.TelemetryResult, **error_responses(400, d400="Refused; nothing changed")},
    )
    def post(self, request):
        result = services.telemetry_record(site=self.site, payload=self.body(request))
        body = {"applied": result.applied, "reportedAt": services.format_time(result.reported_at)}
        if not result.applied:
            body["message"] = "Older than the stored report; kept out of the current state."
        return Response(body)


class GatewaySchedulesView(GatewayView):
    operation_name = "getSchedules"

    @extend_schema(summary="Current schedules of the gateway's site", responses=doc.GatewaySchedules)
    def get(self, request):
        return Response(selectors.gateway_schedules_payload(self.site))


class GatewaySiteView(GatewayView):
    operation_name = "getSite"

    @extend_schema(summary="The gateway's site and its assets", responses=doc.SiteDetail)
    def get(self, request):
        return Response(selectors.site_detail_payload(self.site))
