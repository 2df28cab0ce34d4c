"""OpenAPI descriptions of the sites APIs' credentials, and distinct operation ids for the
same views mounted twice (/api/v1/public/ and /api/v0/public/)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class SiteApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "sites_app.api.authentication.SiteApiKeyAuthentication"
    name = "siteApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "agk_<id>.ags_<secret>",
            "description": "An access group's API key, created on the portal or with create_site_api_key.",
        }


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "sites_app.api.authentication.DeviceTokenAuthentication"
    name = "siteDeviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "hdt_<id>.<secret>",
            "description": "The site's device token, printed by create_site or rotated on the site page.",
        }


class SitesAutoSchema(AutoSchema):
    def get_operation_id(self):
        if "/v0/" in self.path:
            prefix = "sitesV0"
        elif "/gateway/" in self.path:
            prefix = "gateway"
        else:
            prefix = "sitesV1"
        name = getattr(self.view, "operation_name", type(self.view).__name__)
        return f"{prefix}_{name}"
