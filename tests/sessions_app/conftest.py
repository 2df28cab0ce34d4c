import pytest
from rest_framework.test import APIClient

from heatportal.accounts.models import AccessToken
from heatportal.credentials import credential_issue
from sessions_app.models import Project
from tests.factories import UserFactory, documents_session_template


@pytest.fixture
def template(db):
    return documents_session_template()


@pytest.fixture
def project(template):
    return Project.objects.create(
        title="Sample Project", owner=UserFactory(role="Instructor"), default_session_template=template
    )


def bearer_client(role: str = "Trainee", **user_fields) -> APIClient:
    user = UserFactory(role=role, **user_fields)
    _token, value = credential_issue(AccessToken, user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    client.user = user
    client.token = value
    return client


@pytest.fixture
def trainee(db) -> APIClient:
    return bearer_client("Trainee")


@pytest.fixture
def instructor(db) -> APIClient:
    return bearer_client("Instructor")


@pytest.fixture
def admin(db) -> APIClient:
    return bearer_client("Admin")
