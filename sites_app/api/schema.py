"""OpenAPI descriptions of the sites APIs' credentials, and distinct operation ids for the
same views mounted twice (/api/v1/public/ and /api/v0/public/)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, inline_serializer
from rest_framework import serializers

from heatportal.api.schema import BearerScheme, FamilyAutoSchema
from sites_app.history import RESOLUTIONS
from sites_app.models import SCHEDULE_PAIRS, AssetType, ScheduleType


class SiteApiKeyScheme(BearerScheme):
    target_class = "sites_app.api.authentication.SiteApiKeyAuthentication"
    name = "siteApiKey"
    bearer_format = "agk_<id>.ags_<secret>"
    description = "An access group's API key, created on the portal or with create_site_api_key."


class DeviceTokenScheme(BearerScheme):
    target_class = "sites_app.api.authentication.DeviceTokenAuthentication"
    name = "siteDeviceToken"
    bearer_format = "hdt_<id>.<secret>"
    description = "The site's device token, printed by create_site or rotated on the site page."


class SitesAutoSchema(FamilyAutoSchema):
    def get_operation_id(self) -> str:
        if "/v0/" in self.path:
            prefix = "sitesV0"
        elif "/gateway/" in self.path:
            prefix = "gateway"
        else:
            prefix = "sitesV1"
        name = getattr(self.view, "operation_name", type(self.view).__name__)
        return f"{prefix}_{name}"


# --- Bodies (documentation only: inputs.py validates, outputs.py builds) ------------------------


class ScheduleEntry(serializers.Serializer):
    startAt = serializers.DateTimeField()
    endAt = serializers.DateTimeField()
    value = serializers.FloatField()


class ScheduleCommand(serializers.Serializer):
    asset = serializers.ChoiceField(choices=sorted({asset for asset, _kind in SCHEDULE_PAIRS}))
    type = serializers.ChoiceField(choices=ScheduleType.choices)
    entries = ScheduleEntry(many=True, help_text="Ordered by start; empty clears this asset/type.")


class GatewayScheduleCommand(ScheduleCommand):
    batchId = serializers.UUIDField(help_text="The batch that stored these entries.")


class ScheduleCommandsInput(serializers.Serializer):
    # DRF passes min_length/max_length on to the ListSerializer (many=True); its stubs do not say so.
    schedules = ScheduleCommand(many=True, min_length=1, max_length=10)  # type: ignore[call-arg]


class ScheduleAccepted(serializers.Serializer):
    batchId = serializers.UUIDField()
    accepted = serializers.IntegerField(help_text="The number of entries stored.")


class SiteSummary(serializers.Serializer):
    siteId = serializers.UUIDField()
    siteName = serializers.CharField()
    isOnline = serializers.BooleanField()
    reportedAt = serializers.DateTimeField(allow_null=True)
    schedules = ScheduleCommand(many=True, help_text="Entries that have not ended yet.")


class SiteList(serializers.Serializer):
    sites = SiteSummary(many=True)


class AssetOutput(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.ChoiceField(choices=AssetType.choices)
    ratedPowerUpperLimitkW = serializers.FloatField(allow_null=True)
    ratedPowerLowerLimitkW = serializers.FloatField(allow_null=True)
    activePowerkW = serializers.FloatField(allow_null=True)
    ratedEnergyCapacitykWh = serializers.FloatField(allow_null=True, required=False, help_text="BESS only")
    availableStorageCapacitykWh = serializers.FloatField(
        allow_null=True, required=False, help_text="BESS only"
    )
    soc = serializers.FloatField(allow_null=True, required=False, help_text="BESS only, percent")


class SiteDetail(SiteSummary):
    assets = serializers.DictField(child=AssetOutput(), help_text="By asset type.")


class GatewaySchedules(serializers.Serializer):
    siteId = serializers.UUIDField()
    schedules = GatewayScheduleCommand(many=True)


class AssetTelemetry(serializers.Serializer):
    activePowerkW = serializers.FloatField(required=False)
    soc = serializers.FloatField(required=False, min_value=0, max_value=100, help_text="BESS only")
    availableStorageCapacitykWh = serializers.FloatField(required=False, min_value=0, help_text="BESS only")


class TelemetryInput(serializers.Serializer):
    reportedAt = serializers.DateTimeField(help_text="Not in the future (beyond the allowed clock skew).")
    assets = serializers.DictField(child=AssetTelemetry(), help_text="By asset type; the site's assets only.")


class TelemetryResult(serializers.Serializer):
    applied = serializers.BooleanField()
    reportedAt = serializers.DateTimeField()
    message = serializers.CharField(required=False, help_text="Why a report was not applied.")


class TelemetryBatchInput(serializers.Serializer):
    # DRF passes min_length/max_length on to the ListSerializer (many=True); its stubs do not say so.
    reports = TelemetryInput(  # type: ignore[call-arg]
        many=True,
        min_length=1,
        max_length=1000,
        help_text="1 to 1,000 reports (SITES_TELEMETRY_MAX_BATCH): a backlog, in any order.",
    )


TelemetryBody = PolymorphicProxySerializer(
    component_name="TelemetryBody",
    serializers=[TelemetryInput, TelemetryBatchInput],
    resource_type_field_name=None,
)


class TelemetryAnswer(TelemetryResult):
    """The answer to one report, and to a batch (which adds ``reports`` and ``stored``; its
    ``applied`` and ``reportedAt`` speak of the batch's newest report)."""

    reports = serializers.IntegerField(required=False, help_text="A batch: the number of its reports.")
    stored = serializers.IntegerField(
        required=False, help_text="A batch: how many were new to the history (0 for a batch sent again)."
    )


# --- GET /sites/{siteId}/telemetry (issue 14) -----------------------------------------------------


class TelemetryPointValues(serializers.Serializer):
    activePowerkW = serializers.FloatField(
        allow_null=True,
        help_text="Mean of the bucket's reports (the report's value at raw); null if none gave one.",
    )
    soc = serializers.FloatField(
        allow_null=True, required=False, help_text="BESS only: the last value in the bucket, percent."
    )
    availableStorageCapacitykWh = serializers.FloatField(
        allow_null=True, required=False, help_text="BESS only: the last value in the bucket."
    )


class TelemetryPoint(serializers.Serializer):
    t = serializers.DateTimeField(
        help_text="The bucket's start (aligned to UTC), or the report's time at raw."
    )
    assets = serializers.DictField(
        child=TelemetryPointValues(), help_text="Each of the site's assets, by type."
    )


# "from" is a Python keyword, so this body is declared with inline_serializer.
TelemetryHistory = inline_serializer(
    "TelemetryHistory",
    fields={
        "siteId": serializers.UUIDField(),
        "from": serializers.DateTimeField(help_text="The range's start (included)."),
        "to": serializers.DateTimeField(help_text="The range's end (excluded)."),
        "resolution": serializers.ChoiceField(choices=list(RESOLUTIONS)),
        "points": TelemetryPoint(
            many=True, help_text="In time order; a bucket with no report makes no point."
        ),
    },
)

TELEMETRY_PARAMETERS = [
    OpenApiParameter(
        "from",
        OpenApiTypes.DATETIME,
        description="ISO 8601 with a time zone; the range's start (included). Default: 24 hours before `to`.",
    ),
    OpenApiParameter(
        "to",
        OpenApiTypes.DATETIME,
        description="ISO 8601 with a time zone; the range's end (excluded). Default: now.",
    ),
    OpenApiParameter(
        "resolution",
        OpenApiTypes.STR,
        enum=list(RESOLUTIONS),
        default="15m",
        description=(
            "raw: every report; otherwise buckets of 5, 15 or 60 minutes aligned to UTC (power averaged, "
            "SoC and capacity the last value). A range spans at most SITES_HISTORY_MAX_DAYS_RAW days "
            "at raw (7), SITES_HISTORY_MAX_DAYS (92) otherwise."
        ),
    ),
    OpenApiParameter(
        "format",
        OpenApiTypes.STR,
        enum=["json", "csv"],
        description="csv: the same points as a CSV download. Without it, `Accept: text/csv` chooses CSV.",
    ),
]


class ScheduleAckInput(serializers.Serializer):
    batchId = serializers.UUIDField(help_text="A batchId from GET /api/v1/gateway/schedules.")
    appliedAt = serializers.DateTimeField(help_text="When the gateway applied the batch.")


class ScheduleAcknowledged(serializers.Serializer):
    batchId = serializers.UUIDField()
    appliedAt = serializers.DateTimeField(help_text="As first acknowledged.")
    acknowledgedAt = serializers.DateTimeField(
        help_text="When the portal received the first acknowledgement."
    )


ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    description="A strong tag of the body (a digest): send it back as If-None-Match.",
    response=[200, 304],
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag of the schedules the gateway holds: 304 while they are current.",
)
