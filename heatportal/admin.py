from typing import ClassVar

from django.contrib import admin

from heatportal.accounts.forms import AdminLoginForm
from heatportal.accounts.views import login_throttled_response
from heatportal.permissions import is_admin


class HeatAdminSite(admin.AdminSite):
    """The default admin site (``heatportal.apps.HeatAdminConfig``), with a sign-in that shares
    the failure counters of the portal's sign-in and HEAT Auth."""

    site_header = "HEAT Portal"
    site_title = "HEAT Portal"
    index_title = "HEAT Portal administration"
    login_form = AdminLoginForm

    def has_permission(self, request):
        """The admin is for administrators (heatportal.permissions), who also need ``is_staff``
        (Django's "may sign in to the admin")."""
        return request.user.is_staff and is_admin(request.user)

    def login(self, request, extra_context=None):
        return login_throttled_response(super().login(request, extra_context))


class CredentialAdmin(admin.ModelAdmin):
    """Credentials are issued by services (the full value is shown once), never typed in."""

    readonly_fields: ClassVar[tuple[str, ...]] = ("masked", "kind", "created_at", "last_used_at")
    list_display: tuple[str, ...] = ("masked", "created_at", "expires_at", "revoked_at", "last_used_at")

    def has_add_permission(self, request):
        return False
