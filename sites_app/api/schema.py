"""OpenAPI descriptions of the sites APIs' credentials, and distinct operation ids for the
same views mounted twice (/api/v1/public/ and /api/v0/public/)."""

from rest_framework import serializers

from heatportal.api.schema import BearerScheme, FamilyAutoSchema
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
