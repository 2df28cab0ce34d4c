import pytest
from rest_framework.test import APIClient

from heatportal.accounts.models import AccessToken
from heatportal.credentials import credential_issue
from scenarios_app import services
from scenarios_app.models import RunnerSession
from tests.factories import UserFactory

API = "/api/v1"


def bearer_client(role: str = "Admin") -> APIClient:
    """An API client with a bearer token. An administrator by default: the tests of what the
    API does; tests/scenarios_app/test_permissions.py asks for each role."""
    user = UserFactory(role=role)
    _token, value = credential_issue(AccessToken, user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    client.user = user
    client.token = value
    return client


@pytest.fixture
def api(db) -> APIClient:
    return bearer_client()


@pytest.fixture
def main(db) -> RunnerSession:
    """The fresh installation's session: ``main`` with ``Master data``."""
    services.session_ensure_default()
    return RunnerSession.objects.get(display_name="main")


def create_scenario(api, sid="main", **body):
    payload = {"tag": "run", "dataset_key": "Master data", "algo_name": "Slow", **body}
    response = api.post(f"{API}/sessions/{sid}/scenarios", payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()
