"""API plumbing shared by every family: error shapes, OpenAPI."""

import json

import pytest
from django.core.exceptions import SuspiciousOperation
from django.core.management import call_command
from django.test import RequestFactory
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny

from heatportal import views
from heatportal.api.errors import CROWD, HEAT, SCENARIOS, SITES
from heatportal.api.views import ApiView


class Body(serializers.Serializer):
    name = serializers.CharField()
    entries = serializers.ListField(child=serializers.IntegerField(min_value=0))


def family_view(family, exception=None):
    class View(ApiView):
        error_family = family
        permission_classes = [AllowAny]
        authentication_classes = []

        def post(self, request):
            if exception is not None:
                raise exception
            Body(data=self.data).is_valid(raise_exception=True)
            return {}

    return View.as_view()


def post(view, data=None):
    response = view(
        RequestFactory().post("/anything", json.dumps(data or {}), content_type="application/json")
    )
    response.data = json.loads(response.content)
    return response


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        (HEAT, {"status": "error", "message": "Unauthorized"}),
        (SITES, {"error": "unauthorized", "message": "Unauthorized"}),
        (SCENARIOS, {"detail": "Unauthorized"}),
        (CROWD, {"status": "error", "code": 401, "message": "Unauthorized"}),
    ],
)
def test_each_family_renders_its_own_error_body(family, expected):
    response = post(family_view(family, exceptions.NotAuthenticated("Unauthorized")))

    assert response.status_code == 401
    assert response.data == expected
    assert response["WWW-Authenticate"] == "Bearer"


def test_validation_errors_name_each_offending_field():
    response = post(family_view(SITES), {"name": "x", "entries": [1, -1, "a"]})

    assert response.status_code == 400
    assert response.data["error"] == "validation_error"
    assert response.data["message"].startswith("entries.1: ")
    assert [d["field"] for d in response.data["details"]] == ["entries.1", "entries.2"]


def test_heat_validation_error_is_a_message_naming_the_field():
    response = post(family_view(HEAT), {"entries": []})

    assert response.status_code == 400
    assert response.data == {
        "status": "error",
        "message": "name: This field is required.",
        "errors": [{"field": "name", "message": "This field is required."}],
    }


def test_rate_limited_answers_429_with_retry_after():
    response = post(family_view(CROWD, exceptions.Throttled(wait=12)))

    assert response.status_code == 429
    assert response["Retry-After"] == "12"
    assert response.data["code"] == 429


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v2/no-such-thing", {"status": "error", "message": "Not found"}),
        ("/auth/no-such-thing", {"status": "error", "message": "Not found"}),
        ("/api/v1/public/no-such-thing", {"error": "not_found", "message": "Not found"}),
        ("/api/v0/public/no-such-thing", {"error": "not_found", "message": "Not found"}),
        ("/api/v1/gateway/no-such-thing", {"error": "not_found", "message": "Not found"}),
        ("/api/v1/no-such-thing", {"detail": "Not found"}),
        ("/v1/no-such-thing", {"status": "error", "code": 404, "message": "Not found"}),
    ],
)
def test_unknown_api_urls_answer_404_in_their_family_shape(client, path, expected):
    response = client.get(path)

    assert response.status_code == 404
    assert response.json() == expected


def test_unknown_page_is_an_html_404(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_crash_under_an_api_prefix_is_a_json_500_in_its_shape():
    response = views.handler500(RequestFactory().get("/api/v1/public/sites"))

    assert response.status_code == 500
    body = json.loads(response.content)
    assert body == {"error": "internal_server_error", "message": "Internal server error"}


def test_openapi_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yml"))

    assert "openapi:" in (tmp_path / "schema.yml").read_text()


@pytest.mark.django_db
def test_schema_and_docs_are_public(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


@pytest.mark.django_db
def test_a_body_over_djangos_limit_is_a_413_in_the_family_shape(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"username": "' + "x" * 2048 + '", "password": "p"}'

    response = client.post("/auth/login", body, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["message"] == "Request entity too large"


def test_a_bad_request_under_an_api_prefix_is_a_json_400_in_its_shape():
    response = views.handler400(RequestFactory().get("/v1/requests/x"), SuspiciousOperation("no"))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
