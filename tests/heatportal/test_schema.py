"""The OpenAPI schema covers every API: each URL pattern of each API family is reached by a path
of the schema, with every method its view answers, and each family's operations carry its
credentials and its error body."""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator

from heatportal.api.errors import family_for_path

# Function views (not DRF) and the methods they answer.
FUNCTION_VIEW_METHODS = {"crowd-requests": {"get", "post"}, "crowd-abort": {"post"}}
FAMILY_PREFIXES = ["/api/v2/", "/auth/", "/api/v1/public/", "/api/v0/public/", "/api/v1/gateway/", "/v1/"]


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def api_patterns(patterns=None, prefix="", namespace=""):
    """(path prefix, view name, pattern) of every URL pattern under an API family's prefix."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace) if part)
            yield from api_patterns(entry.url_patterns, prefix + _literal(entry.pattern), inner)
        elif isinstance(entry, URLPattern) and family_for_path("/" + prefix) is not None:
            yield "/" + prefix, f"{namespace}:{entry.name}" if namespace else entry.name, entry


def _literal(pattern) -> str:
    return re.sub(r"^\^|\$$", "", str(pattern))


def _sample(parameter: dict) -> str:
    schema = parameter.get("schema", {})
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    return "1" if schema.get("type") == "integer" else "x"


def documented_methods(schema) -> dict[str, set[str]]:
    """View name → methods, for every operation of the schema, found by resolving its path."""
    found: dict[str, set[str]] = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            samples = {p["name"]: _sample(p) for p in operation.get("parameters", []) if p["in"] == "path"}
            url = re.sub(r"\{(\w+)\}", lambda match, samples=samples: samples[match.group(1)], path)
            found.setdefault(resolve(url).view_name, set()).add(method)
    return found


def test_every_family_has_url_patterns():
    prefixes = {prefix for prefix, _name, _pattern in api_patterns()}

    for family_prefix in FAMILY_PREFIXES:
        assert any(prefix.startswith(family_prefix) for prefix in prefixes), family_prefix


def test_every_url_pattern_of_every_api_family_is_in_the_schema_with_its_methods(schema):
    documented = documented_methods(schema)
    missing = []
    for _prefix, name, pattern in api_patterns():
        view_class = getattr(pattern.callback, "cls", None)
        if view_class is not None:
            methods = {m for m in view_class.http_method_names if m not in ("options", "head")}
            expected = {m for m in methods if hasattr(view_class, m)}
        else:
            expected = FUNCTION_VIEW_METHODS[pattern.name]
        if not expected <= documented.get(name, set()):
            missing.append((name, sorted(expected - documented.get(name, set()))))

    assert missing == []


def test_each_family_has_its_security_scheme_and_error_body(schema):
    expected = {
        "/api/v2/projects": ({"heatBearer"}, "HeatError"),
        "/api/v1/public/sites": ({"siteApiKey"}, "SitesError"),
        "/api/v1/gateway/site": ({"siteDeviceToken"}, "SitesError"),
        "/api/v1/sessions/{sid}/kpis": ({"heatBearer", "cookieAuth"}, "RunnerError"),
        "/v1/requests/{id}": ({"crowdApiKey", "crowdBasic"}, "CrowdError"),
    }
    for path, (schemes, error_body) in expected.items():
        operation = schema["paths"][path]["get"]
        assert {name for requirement in operation["security"] for name in requirement} == schemes
        for status in ("400", "401", "429"):
            body = operation["responses"][status]["content"]["application/json"]["schema"]
            assert body == {"$ref": f"#/components/schemas/{error_body}"}, (path, status)

    crowd_schemes = schema["components"]["securitySchemes"]
    assert crowd_schemes["crowdApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Heat-API-Key",
        "description": crowd_schemes["crowdApiKey"]["description"],
    }
    assert crowd_schemes["crowdBasic"]["scheme"] == "basic"


def test_each_crowd_request_type_has_its_own_operation_and_body(schema):
    from crowd_app.models import RequestType

    for request_type in RequestType.values:
        operation = schema["paths"][f"/v1/requests/{request_type}"]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert body == f"#/components/schemas/Create{request_type.title().replace('-', '')}Request", body
        assert set(operation["responses"]) >= {"200", "400", "401", "413", "429"}
