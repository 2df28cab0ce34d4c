import pytest
from rest_framework.test import APIClient

from heatportal.accounts.models import AccessToken
from heatportal.credentials import credential_issue
from sessions_app.models import DataSource, NodeTemplate, Project, SessionTemplate
from tests.factories import UserFactory


@pytest.fixture
def template(db):
    """The documents' template: an input node with a data source feeding a preprocessor."""
    raw = DataSource.objects.create(name="raw")
    template = SessionTemplate.objects.create(
        name="Default Template", description="Base template for sessions"
    )
    source = NodeTemplate.objects.create(
        session_template=template,
        key="json-input",
        type="InputNode",
        label="JsonInput Node",
        configuration={"dataSourceName": raw.name},
        position=0,
    )
    NodeTemplate.objects.create(
        session_template=template,
        key="preprocess",
        type="Preprocessor",
        label="Preprocessing Node",
        position=1,
    ).inputs.add(source)
    return template


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
