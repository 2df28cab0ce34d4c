"""HEAT Auth: /auth/login, /auth/refresh, /auth/logout, and issue_token."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from heatportal.accounts.models import AccessToken, RefreshToken
from heatportal.credentials import credential_authenticate
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def login(client=None, **body):
    return (client or APIClient()).post("/auth/login", body, format="json")


def v2(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/v2/user_data")


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ada", "password": PASSWORD, "rememberMe": True},
        {"Username": "ada", "Password": PASSWORD, "RememberMe": True},
        {"username": "ada", "password": PASSWORD, "remember_me": True},
        {"username": "ada", "password": PASSWORD},  # rememberMe defaults to true
    ],
)
def test_login_returns_a_token_pair_in_any_casing(body):
    UserFactory(username="ada")

    response = login(**body)

    assert response.status_code == 200
    tokens = response.json()
    assert tokens["tokenType"] == "Bearer"
    assert tokens["expiresIn"] == 3600
    assert tokens["accessToken"].startswith("hat_")
    assert tokens["refreshToken"].startswith("hrt_")
    assert v2(tokens["accessToken"]).json()["Username"] == "ada"


def test_login_without_remember_me_gives_no_refresh_token():
    UserFactory(username="ada")

    tokens = login(username="ada", password=PASSWORD, rememberMe=False).json()

    assert "refreshToken" not in tokens
    assert RefreshToken.objects.count() == 0


def test_a_bad_password_and_an_unknown_user_fail_alike():
    UserFactory(username="ada")

    wrong = login(username="ada", password="wrong")
    unknown = login(username="nobody", password="wrong")

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"status": "error", "message": "Unauthorized"}


def test_a_deactivated_user_cannot_sign_in():
    UserFactory(username="ada", is_active=False)

    assert login(username="ada", password=PASSWORD).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "ada"},
        {"password": "x"},
        {"username": ["a"], "password": 1},
        {"username": "ada", "password": 1234},
    ],
)
def test_malformed_login_is_400(body):
    response = login(**body)

    assert response.status_code == 400
    assert response.json()["status"] == "error"


def test_repeated_failures_for_one_user_are_throttled(settings):
    settings.HEAT_AUTH_MAX_FAILURES_PER_USER = 3
    UserFactory(username="ada")

    statuses = [login(username="ada", password="wrong").status_code for _ in range(3)]
    throttled = login(username="ada", password=PASSWORD)  # even the right password waits

    assert statuses == [401, 401, 401]
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert throttled.json()["status"] == "error"


def test_repeated_failures_from_one_address_are_throttled(settings):
    settings.HEAT_AUTH_MAX_FAILURES_PER_IP = 3
    UserFactory(username="ada")

    for n in range(3):
        login(username=f"guess{n}", password="wrong")

    assert login(username="ada", password=PASSWORD).status_code == 429
    other_address = APIClient(REMOTE_ADDR="10.9.9.9")
    assert login(other_address, username="ada", password=PASSWORD).status_code == 200


def test_refresh_rotates_the_refresh_token():
    UserFactory(username="ada")
    first = login(username="ada", password=PASSWORD).json()

    refreshed = APIClient().post("/auth/refresh", {"refreshToken": first["refreshToken"]}, format="json")
    replay = APIClient().post("/auth/refresh", {"refreshToken": first["refreshToken"]}, format="json")

    assert refreshed.status_code == 200
    assert refreshed.json()["refreshToken"] != first["refreshToken"]
    assert v2(refreshed.json()["accessToken"]).status_code == 200
    assert replay.status_code == 401


@pytest.mark.parametrize("body", [{"refreshToken": "hrt_nope.nope"}, {"refreshToken": ""}, {}])
def test_refresh_with_a_bad_token_fails(body):
    response = APIClient().post("/auth/refresh", body, format="json")

    assert response.status_code in (400, 401)
    assert response.json()["status"] == "error"


def test_logout_revokes_the_presented_token():
    UserFactory(username="ada")
    token = login(username="ada", password=PASSWORD).json()["accessToken"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert client.post("/auth/logout").status_code == 204
    assert v2(token).status_code == 401
    assert APIClient().post("/auth/logout").status_code == 401


def test_issue_token_prints_a_working_offline_token(capsys):
    user = UserFactory(username="sim")

    call_command("issue_token", "sim", "--offline", "--name", "simulator")
    value = capsys.readouterr().out.strip()

    token = credential_authenticate(AccessToken.objects.all(), value)
    assert (token.user, token.is_offline, token.name, token.expires_at) == (user, True, "simulator", None)
    assert v2(value).status_code == 200


def test_issue_token_without_offline_gives_an_expiring_token(capsys):
    UserFactory(username="sim")

    call_command("issue_token", "sim")

    token = credential_authenticate(AccessToken.objects.all(), capsys.readouterr().out.strip())
    assert token.expires_at is not None and not token.is_offline


def test_login_costs_the_user_lookup_and_the_token_writes():
    """The user row (with the password hash), last_login, and one row per token issued;
    nothing else (savepoints of the surrounding test transaction aside)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    UserFactory(username="ada")
    with CaptureQueriesContext(connection) as queries:
        response = login(username="ada", password=PASSWORD)

    assert response.status_code == 200
    statements = [q["sql"].split()[0] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert statements == ["SELECT", "UPDATE", "INSERT", "INSERT"]
