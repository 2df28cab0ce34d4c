import pytest
from rest_framework.test import APIClient

from sites_app import services
from sites_app.api.outputs import fragment_cache
from tests.factories import AccessGroupFactory
from tests.sites_app.helpers import DOC_SITE_ID, key_client


@pytest.fixture(autouse=True)
def _empty_fragment_cache():
    fragment_cache.clear()
    yield
    fragment_cache.clear()


@pytest.fixture
def group(db):
    return AccessGroupFactory(name="Utility A")


@pytest.fixture
def other_group(db):
    return AccessGroupFactory(name="Utility B")


@pytest.fixture
def site_and_token(group):
    return services.site_create(access_group=group, name="Site 1", site_id=DOC_SITE_ID)


@pytest.fixture
def site(site_and_token):
    return site_and_token[0]


@pytest.fixture
def device_token(site_and_token):
    return site_and_token[1]


@pytest.fixture
def api(group) -> APIClient:
    return key_client(group)


@pytest.fixture
def gateway(device_token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {device_token}")
    return client
