from django.contrib import admin

from heatportal.admin import CredentialAdmin
from sites_app.models import AccessGroup, Site, SiteApiKey, SiteDeviceToken


@admin.register(AccessGroup)
class AccessGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "access_group", "created_at")
    list_filter = ("access_group",)
    search_fields = ("name", "id")


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
