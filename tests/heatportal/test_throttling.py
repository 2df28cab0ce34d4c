"""Throttling of failed authentication.

Passwords: the sign-in page, the admin's sign-in page and ``POST /auth/login`` share one set of
failure counters (per user name and per client address). API keys, device tokens and bearer
tokens: failures are counted per client address; an address over the limit gets 429 with
``Retry-After`` in its API family's error shape, even with a valid credential, while the same
credential from another address still works.
"""

import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient

from crowd_app.models import CrowdApiKey
from crowd_app.services import crowd_account_create, crowd_api_key_create
from heatportal.accounts.models import AccessToken, RefreshToken
from heatportal.credentials import credential_issue
from sites_app import services as sites_services
from sites_app.models import SiteApiKey, SiteDeviceToken
from tests.factories import PASSWORD, AccessGroupFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the crowd API answers from other threads

ATTACKER = "203.0.113.66"
ELSEWHERE = "198.51.100.20"


# --- Passwords ---------------------------------------------------------------------------------


def page_login(username, password, address=ATTACKER, path="/login/"):
    client = Client(REMOTE_ADDR=address)
    response = client.post(path, {"username": username, "password": password})
    return client, response


def api_login(username, password, address=ATTACKER):
    client = APIClient(REMOTE_ADDR=address)
    return client.post("/auth/login", {"username": username, "password": password}, format="json")


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def assert_page_throttled(client, response):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 300
    assert b"Too many failed sign-in attempts" in response.content
    assert not signed_in(client)


def test_the_sign_in_page_locks_a_user_after_the_limit(settings):
    settings.HEAT_AUTH_MAX_FAILURES_PER_USER = 3
    UserFactory(username="ada")

    failures = [page_login("ada", "wrong")[1].status_code for _ in range(3)]
    client, response = page_login("ada", PASSWORD)  # even the right password waits

    assert failures == [200, 200, 200]
    assert_page_throttled(client, response)
    # ... from any address: the user name is locked, not only the address
    client, response = page_login("ada", PASSWORD, address=ELSEWHERE)
    assert_page_throttled(client, response)


def test_fifty_wrong_passwords_then_the_right_one_does_not_sign_in():
    """The reported case, with the default limits."""
    UserFactory(username="ada")

    for _ in range(50):
        page_login("ada", "wrong")
    client, response = page_login("ada", PASSWORD)

    assert_page_throttled(client, response)


def test_the_admin_sign_in_locks_a_user_after_the_limit(settings):
    settings.HEAT_AUTH_MAX_FAILURES_PER_USER = 3
    UserFactory(username="root", is_staff=True, is_superuser=True)

    failures = [page_login("root", "wrong", path="/admin/login/")[1].status_code for _ in range(3)]
    client, response = page_login("root", PASSWORD, path="/admin/login/")

    assert failures == [200, 200, 200]
    assert_page_throttled(client, response)
    assert b"Please enter the correct username" not in response.content


def test_the_three_sign_ins_share_their_counters(settings):
    settings.HEAT_AUTH_MAX_FAILURES_PER_USER = 3
    UserFactory(username="root", is_staff=True, is_superuser=True)

    assert api_login("root", "wrong").status_code == 401
    assert page_login("root", "wrong")[1].status_code == 200
    assert page_login("root", "wrong", path="/admin/login/")[1].status_code == 200

    assert api_login("root", PASSWORD).status_code == 429
    assert page_login("root", PASSWORD)[1].status_code == 429
    assert page_login("root", PASSWORD, path="/admin/login/")[1].status_code == 429


def test_the_api_lock_holds_on_the_pages_too(settings):
    settings.HEAT_AUTH_MAX_FAILURES_PER_USER = 2
    UserFactory(username="ada")
    for _ in range(2):
        api_login("ada", "wrong")

    client, response = page_login("ada", PASSWORD)

    assert_page_throttled(client, response)


def test_an_address_guessing_many_user_names_is_locked_on_the_pages(settings):
    settings.HEAT_AUTH_MAX_FAILURES_PER_IP = 3
    UserFactory(username="ada")
    for n in range(3):
        page_login(f"guess{n}", "wrong")

    client, response = page_login("ada", PASSWORD)

    assert_page_throttled(client, response)
    client, response = page_login("ada", PASSWORD, address=ELSEWHERE)
    assert response.status_code == 302 and signed_in(client)


def test_a_successful_sign_in_clears_the_users_failures(settings):
    settings.HEAT_AUTH_MAX_FAILURES_PER_USER = 3
    UserFactory(username="ada")

    for _round in range(3):
        for _ in range(2):
            assert page_login("ada", "wrong")[1].status_code == 200
        client, response = page_login("ada", PASSWORD)
        assert response.status_code == 302 and signed_in(client)


def test_a_non_staff_user_is_still_refused_by_the_admin_without_a_lock(settings):
    UserFactory(username="ada")

    client, response = page_login("ada", PASSWORD, path="/admin/login/")

    assert response.status_code == 200 and not signed_in(client)


def test_the_lock_lasts_one_window_from_the_first_failure():
    import time

    from heatportal.ratelimit import failure_record, failures_retry_after

    failure_record("test", "ada", window=3)
    time.sleep(1.2)
    assert failures_retry_after("test", "ada", limit=2) is None
    failure_record("test", "ada", window=3)  # the second failure does not move the window

    assert failures_retry_after("test", "ada", limit=2) in (1, 2)
    time.sleep(2)
    assert failures_retry_after("test", "ada", limit=2) is None
    failure_record("test", "ada", window=3)  # a new window, counted from one
    assert failures_retry_after("test", "ada", limit=2) is None


# --- API keys, device tokens, bearer tokens ----------------------------------------------------


def unknown(model, kind_index: int = 0) -> str:
    """A well-formed value of ``model``'s credential kind that names no stored credential."""
    kind = model.KINDS[kind_index]
    return kind.format(*kind.generate())


class Family:
    """One API family's credential: how to call it with a value, a valid value, and its 429."""

    def __init__(self, name, model, call, valid, ok_status, throttled_body):
        self.name, self.model, self.call, self.valid = name, model, call, valid
        self.ok_status, self.throttled_body = ok_status, throttled_body


def bearer(path, method="get", body=None):
    def call(value, address):
        client = APIClient(REMOTE_ADDR=address)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
        return getattr(client, method)(path, body, format="json") if body is not None else client.get(path)

    return call


def crowd_call(value, address):
    client = Client(REMOTE_ADDR=address)
    return client.get(f"/v1/requests/{uuid.uuid4()}", headers={"X-Heat-API-Key": value})


def refresh_call(value, address):
    return APIClient(REMOTE_ADDR=address).post("/auth/refresh", {"refresh_token": value}, format="json")


def site_key():
    return credential_issue(SiteApiKey, access_group=AccessGroupFactory(name="A"), name="k")[1]


def device_token():
    group = AccessGroupFactory(name="A")
    return sites_services.site_create(access_group=group, name="Site 1", site_id=str(uuid.uuid4()))[1]


def access_token():
    return credential_issue(AccessToken, user=UserFactory())[1]


def refresh_token():
    return credential_issue(RefreshToken, user=UserFactory())[1]


def crowd_key():
    return crowd_api_key_create(account=crowd_account_create(owner=UserFactory(), name="acme"), test=False)[1]


def message_is_about_the_address(message: str) -> bool:
    return message.startswith("Too many failed authentications from your address")


FAMILIES = [
    Family(
        "sites public API key",
        SiteApiKey,
        bearer("/api/v1/public/sites"),
        site_key,
        200,
        lambda body: body["error"] == "rate_limited" and message_is_about_the_address(body["message"]),
    ),
    Family(
        "sites gateway device token",
        SiteDeviceToken,
        bearer("/api/v1/gateway/site"),
        device_token,
        200,
        lambda body: body["error"] == "rate_limited" and message_is_about_the_address(body["message"]),
    ),
    Family(
        "crowd API key",
        CrowdApiKey,
        crowd_call,
        crowd_key,
        404,  # authenticated; the request does not exist
        lambda body: (
            body["status"] == "error"
            and body["code"] == 429
            and message_is_about_the_address(body["message"])
        ),
    ),
    Family(
        "v2 bearer token",
        AccessToken,
        bearer("/api/v2/user_data"),
        access_token,
        200,
        lambda body: body["status"] == "error" and message_is_about_the_address(body["message"]),
    ),
    Family(
        "scenario runner bearer token",
        AccessToken,
        bearer("/api/v1/sessions"),
        access_token,
        200,
        lambda body: set(body) == {"detail"} and message_is_about_the_address(body["detail"]),
    ),
    Family(
        "HEAT Auth refresh token",
        RefreshToken,
        refresh_call,
        refresh_token,
        200,
        lambda body: body["status"] == "error" and message_is_about_the_address(body["message"]),
    ),
]


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.name)
def test_an_address_presenting_invalid_credentials_is_throttled(settings, family):
    settings.CREDENTIAL_MAX_FAILURES_PER_ADDRESS = 3
    valid = family.valid()

    failures = [family.call(unknown(family.model), ATTACKER).status_code for _ in range(3)]
    throttled = family.call(valid, ATTACKER)  # refused before the credential is looked at

    assert failures == [401, 401, 401]
    assert throttled.status_code == 429, throttled.content
    assert 1 <= int(throttled["Retry-After"]) <= settings.CREDENTIAL_FAILURE_WINDOW
    assert family.throttled_body(throttled.json()), throttled.json()
    # The same valid credential from another address is unaffected.
    assert family.call(valid, ELSEWHERE).status_code == family.ok_status


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.name)
def test_valid_credentials_are_not_counted(settings, family):
    settings.CREDENTIAL_MAX_FAILURES_PER_ADDRESS = 3
    valid = family.valid()
    if family.model is RefreshToken:
        valid_values = [valid] + [refresh_token() for _ in range(4)]  # each is used up by rotation
    else:
        valid_values = [valid] * 5

    statuses = [family.call(value, ATTACKER).status_code for value in valid_values]

    assert statuses == [family.ok_status] * 5


def test_the_counters_are_kept_per_kind_of_credential(settings):
    """An address that got its crowd keys wrong may still use its site key."""
    settings.CREDENTIAL_MAX_FAILURES_PER_ADDRESS = 2
    for _ in range(2):
        crowd_call(unknown(CrowdApiKey), ATTACKER)

    assert crowd_call(crowd_key(), ATTACKER).status_code == 429
    assert bearer("/api/v1/public/sites")(site_key(), ATTACKER).status_code == 200


def test_no_credential_at_all_is_not_a_failure(settings):
    settings.CREDENTIAL_MAX_FAILURES_PER_ADDRESS = 2
    for _ in range(3):
        assert Client(REMOTE_ADDR=ATTACKER).get(f"/v1/requests/{uuid.uuid4()}").status_code == 401

    assert crowd_call(crowd_key(), ATTACKER).status_code == 404


def test_a_limit_of_zero_turns_the_throttle_off(settings):
    settings.CREDENTIAL_MAX_FAILURES_PER_ADDRESS = 0
    for _ in range(30):
        crowd_call(unknown(CrowdApiKey), ATTACKER)

    assert crowd_call(crowd_key(), ATTACKER).status_code == 404
