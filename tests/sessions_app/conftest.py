import pytest
from rest_framework.test import APIClient

from sessions_app.models import Project
from tests.factories import UserFactory, documents_session_template
from tests.helpers import bearer_client


@pytest.fixture
def template(db):
    return documents_session_template()


@pytest.fixture
def project(template):
    return Project.objects.create(
        title="Sample Project", owner=UserFactory(role="Instructor"), default_session_template=template
    )


@pytest.fixture
def trainee(db) -> APIClient:
    return bearer_client("Trainee")


@pytest.fixture
def instructor(db) -> APIClient:
    return bearer_client("Instructor")


@pytest.fixture
def admin(db) -> APIClient:
    return bearer_client("Admin")
