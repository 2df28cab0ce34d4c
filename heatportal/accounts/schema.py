"""OpenAPI descriptions of our authentication classes (drf-spectacular extensions)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "heatportal.accounts.authentication.BearerTokenAuthentication"
    name = "heatBearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An access or offline token from HEAT Auth (POST /auth/login).",
        }
