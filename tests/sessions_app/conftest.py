import pytest
from rest_framework.test import APIClient

from tests.factories import documents_session_template
from tests.helpers import bearer_client
from tests.sessions_app.factories import ProjectFactory


@pytest.fixture
def template(db):
    return documents_session_template()


@pytest.fixture
def project(template):
    return ProjectFactory(title="Sample Project", default_session_template=template)


@pytest.fixture
def trainee(db) -> APIClient:
    return bearer_client("Trainee")


@pytest.fixture
def instructor(db) -> APIClient:
    return bearer_client("Instructor")


@pytest.fixture
def admin(db) -> APIClient:
    return bearer_client("Admin")
