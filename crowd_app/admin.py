from django.contrib import admin

from crowd_app.models import CrowdAccount, CrowdApiKey
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
