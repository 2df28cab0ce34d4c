import pytest
from rest_framework.test import APIClient

from scenarios_app.models import RunnerSession
from tests.helpers import bearer_client


@pytest.fixture
def api(db) -> APIClient:
    """An administrator's client: the tests of what the API does; test_permissions.py asks for
    each role."""
    return bearer_client("Admin")


@pytest.fixture
def main(db) -> RunnerSession:
    """The fresh installation's session: ``main`` with ``Master data``, created when the
    database is migrated (and flushed) by scenarios_app.apps, not by a request."""
    return RunnerSession.objects.get(display_name="main")
