"""Fixtures of the heat_client tests: the client against the portal served live by uvicorn."""

import pytest

from heat_client import HeatClient
from heatportal.accounts.models import AccessToken, User
from heatportal.credentials import credential_issue
from sessions_app import services
from sessions_app.models import Project, SessionTemplate
from tests.factories import PASSWORD, UserFactory, documents_session_template


@pytest.fixture
def template(transactional_db) -> SessionTemplate:
    return documents_session_template()


@pytest.fixture
def project(template) -> Project:
    return services.project_create(
        owner=UserFactory(role=User.Role.INSTRUCTOR),
        title="Sample Project",
        description="Project for testing",
        default_session_template=template,
    )


@pytest.fixture
def api_user(transactional_db) -> User:
    return UserFactory()


@pytest.fixture
def token(api_user) -> str:
    _row, value = credential_issue(AccessToken, user=api_user, name="heat_client tests", is_offline=True)
    return value


@pytest.fixture
def heat(live_url, token):
    """A client with a (offline) token."""
    with HeatClient(live_url, token=token) as client:
        yield client


@pytest.fixture
def password_heat(live_url, api_user):
    """A client that signs in with a user name and password."""
    with HeatClient(live_url, username=api_user.username, password=PASSWORD) as client:
        yield client
