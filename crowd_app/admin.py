from django.contrib import admin

from crowd_app.models import (
    CrowdAccount,
    CrowdAnswer,
    CrowdApiKey,
    CrowdRequest,
    Cruncher,
    TaskLease,
    TaskSkip,
    WebhookDelivery,
)
from heatportal.admin import CredentialAdmin


@admin.register(CrowdAccount)
class CrowdAccountAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "created_at")
    search_fields = ("name",)


@admin.register(CrowdApiKey)
class CrowdApiKeyAdmin(CredentialAdmin):
    list_display = ("masked", "name", "account", "kind", *CredentialAdmin.list_display[1:])
    list_filter = ("kind",)
    fields = ("masked", "name", "account", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = (*CredentialAdmin.readonly_fields, "account")


@admin.register(Cruncher)
class CruncherAdmin(admin.ModelAdmin):
    list_display = ("cruncher_id", "name", "user", "simulated", "created_at")
    list_filter = ("simulated",)
    search_fields = ("cruncher_id", "name", "user__username")
    readonly_fields = ("cruncher_id",)


class CrowdAnswerInline(admin.TabularInline):
    model = CrowdAnswer
    extra = 0
    readonly_fields = ("cruncher", "response", "created_at")
    can_delete = False


@admin.register(CrowdRequest)
class CrowdRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "account", "status", "staging", "webhook_state", "created_at")
    list_filter = ("status", "type", "staging", "webhook_state")
    search_fields = ("id", "account__name")
    readonly_fields = (
        "id",
        "account",
        "api_key",
        "type",
        "params",
        "staging",
        "response",
        "created_at",
        "completed_at",
    )
    list_select_related = ("account",)
    inlines = [CrowdAnswerInline]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("message_id", "attempt", "request", "outcome", "status_code", "created_at")
    list_filter = ("outcome",)
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]


@admin.register(CrowdAnswer)
class CrowdAnswerAdmin(admin.ModelAdmin):
    list_display = ("request", "cruncher", "created_at")
    list_select_related = ("request", "cruncher")
    readonly_fields = ("request", "cruncher", "response", "created_at")


@admin.register(TaskLease)
class TaskLeaseAdmin(admin.ModelAdmin):
    list_display = ("request", "cruncher", "taken_at", "expires_at")
    list_select_related = ("request", "cruncher")
    readonly_fields = ("request", "cruncher", "taken_at")


@admin.register(TaskSkip)
class TaskSkipAdmin(admin.ModelAdmin):
    list_display = ("request", "cruncher", "skipped_at")
    list_select_related = ("request", "cruncher")
    readonly_fields = ("request", "cruncher", "skipped_at")
