"""OpenAPI descriptions of our authentication classes (drf-spectacular extensions)."""

from heatportal.api.schema import BearerScheme


class BearerTokenScheme(BearerScheme):
    target_class = "heatportal.accounts.authentication.BearerTokenAuthentication"
    name = "heatBearer"
    description = "An access or offline token from HEAT Auth (POST /auth/login)."
