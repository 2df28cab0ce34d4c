from django.contrib import admin


class CredentialAdmin(admin.ModelAdmin):
    """Credentials are issued by services (the full value is shown once), never typed in."""

    readonly_fields = ("masked", "kind", "created_at", "last_used_at")
    list_display = ("masked", "created_at", "expires_at", "revoked_at", "last_used_at")

    def has_add_permission(self, request):
        return False
