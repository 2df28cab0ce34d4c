"""The REST framework and the OpenAPI schema, shared by every API family."""

from .environment import env

# --- REST framework and OpenAPI ---------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies are read by heatportal.api.input.parse_json (depth, NUL, surrogates, ranges).
    "DEFAULT_PARSER_CLASSES": [
        "heatportal.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "heatportal.api.schema.FamilyAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Where the scenario runner's API is mounted (document 003 uses /api/v1/).
SCENARIOS_API_PREFIX = env("SCENARIOS_API_PREFIX", default="api/v1/")

SPECTACULAR_SETTINGS = {
    "TITLE": "HEAT Portal API",
    "DESCRIPTION": (
        "HEAT v2 API and HEAT Auth, the HEAT Cloud public API for energy sites and its gateway "
        "API, the scenario runner and crowd requests."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI from the installed sidecar package, not a CDN: the portal is self-hosted.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request bodies get components of their own, with the input rules (non-blank strings...).
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH body states its own required fields (the runner's rename needs display_name).
    "COMPONENT_SPLIT_PATCH": False,
    # Bodies are documented as JSON (views that take uploads say so themselves).
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "ENUM_NAME_OVERRIDES": {
        "ErrorStatusEnum": ["error"],
        "CrowdRequestStatusEnum": "crowd_app.models.CrowdRequest.Status",
        "CrowdMediaTypeEnum": "crowd_app.validation.MEDIA_TYPES",
        "ScenarioStatusEnum": "scenarios_app.models.Scenario.Status",
        "HealthStatusEnum": ["ok"],
        "CrowdRequestTypeEnum": "crowd_app.models.RequestType",
        "AssetTypeEnum": "sites_app.models.AssetType",
        "ScheduleTypeEnum": "sites_app.models.ScheduleType",
        "ScheduledAssetEnum": ["bess", "grid", "solar"],
    },
}
