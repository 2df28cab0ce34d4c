from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from heatportal.admin import CredentialAdmin
from sites_app import services
from sites_app.models import (
    AccessGroup,
    Asset,
    ScheduleBatch,
    ScheduleEntry,
    Site,
    SiteApiKey,
    SiteDeviceToken,
)


@admin.register(AccessGroup)
class AccessGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)


class AssetInline(admin.TabularInline):
    model = Asset
    extra = 0
    fields = (
        "type",
        "rated_upper_kw",
        "rated_lower_kw",
        "energy_capacity_kwh",
        "active_power_kw",
        "soc_pcnt",
        "available_capacity_kwh",
    )
    readonly_fields = ("active_power_kw", "soc_pcnt", "available_capacity_kwh")


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "access_group", "reported_at", "created_at")
    list_filter = ("access_group",)
    search_fields = ("name", "id")
    readonly_fields = ("reported_at", "revision")
    inlines = [AssetInline]

    def save_model(self, request: HttpRequest, obj: Site, form: ModelForm[Site], change: bool) -> None:
        services.site_save(site=obj)


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ("site", "type", "rated_upper_kw", "rated_lower_kw", "active_power_kw")
    list_filter = ("type",)
    list_select_related = ("site",)
    search_fields = ("site__name",)

    def save_model(self, request: HttpRequest, obj: Asset, form: ModelForm[Asset], change: bool) -> None:
        services.asset_save(asset=obj)

    def delete_model(self, request: HttpRequest, obj: Asset) -> None:
        services.asset_delete(asset=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Asset]) -> None:
        for asset in queryset:
            services.asset_delete(asset=asset)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Schedules change only through schedule_batch_apply (which keeps the audit trail)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(ScheduleBatch)
class ScheduleBatchAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "site", "sent_by", "source", "accepted")
    list_filter = ("source",)
    list_select_related = ("site",)
    search_fields = ("site__name", "sent_by", "id")


@admin.register(ScheduleEntry)
class ScheduleEntryAdmin(ReadOnlyAdmin):
    list_display = ("site", "asset", "kind", "start_at", "end_at", "value", "superseded_by")
    list_filter = ("asset", "kind")
    list_select_related = ("site",)


@admin.register(SiteApiKey)
class SiteApiKeyAdmin(CredentialAdmin):
    list_display = ("masked", "name", "access_group", *CredentialAdmin.list_display[1:])
    list_filter = ("access_group",)
    fields = ("masked", "name", "access_group", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = (*CredentialAdmin.readonly_fields, "access_group")


@admin.register(SiteDeviceToken)
class SiteDeviceTokenAdmin(CredentialAdmin):
    list_display = ("masked", "site", *CredentialAdmin.list_display[1:])
    fields = ("masked", "site", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = (*CredentialAdmin.readonly_fields, "site")
