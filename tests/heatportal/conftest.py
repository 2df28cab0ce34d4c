"""Fixtures of the portal's own tests."""

import pytest
from django.test import Client

from heatportal.accounts.models import User
from tests.factories import UserFactory


@pytest.fixture
def portal_admin(db) -> User:
    return UserFactory(username="ada", role=User.Role.ADMIN, is_staff=True)


@pytest.fixture
def ada(portal_admin) -> Client:
    client = Client()
    client.force_login(portal_admin)
    return client
