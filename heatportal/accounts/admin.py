from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from heatportal.accounts.models import AccessToken, RefreshToken, User
from heatportal.admin import CredentialAdmin


@admin.register(User)
class HeatUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "is_staff", "is_active", "last_login")
    list_filter = ("role", "is_staff", "is_active")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("HEAT", {"fields": ("role",)}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("HEAT", {"fields": ("role",)}))


@admin.register(AccessToken)
class AccessTokenAdmin(CredentialAdmin):
    list_display = ("masked", "user", "name", "is_offline", *CredentialAdmin.list_display[1:])
    list_filter = ("is_offline",)
    fields = (
        "masked",
        "user",
        "name",
        "is_offline",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    readonly_fields = (*CredentialAdmin.readonly_fields, "user", "is_offline")


@admin.register(RefreshToken)
class RefreshTokenAdmin(CredentialAdmin):
    list_display = ("masked", "user", *CredentialAdmin.list_display[1:])
    fields = ("masked", "user", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = (*CredentialAdmin.readonly_fields, "user")
