"""Client configuration: arguments and environment, checked before any request."""

import socket

import pytest

from heat_client import (
    HeatClient,
    HeatClientConfigurationException,
    HeatClientOptions,
    HeatConnectionException,
)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"token": "hat_x"}, "No HEAT base URL"),
        ({"base_url": "   ", "token": "hat_x"}, "No HEAT base URL"),
        ({"base_url": "heat.example.org", "token": "hat_x"}, "must start with http:// or https://"),
        ({"base_url": "https://heat.example.org"}, "No HEAT credentials"),
        ({"base_url": "https://heat.example.org", "username": "ada"}, "No password for HEAT user 'ada'"),
        ({"base_url": "https://heat.example.org", "password": "pw"}, "without a user name"),
        (
            {"base_url": "https://heat.example.org", "token": "hat_x", "username": "ada", "password": "pw"},
            "set only one of them",
        ),
    ],
)
def test_unusable_configuration_is_refused_at_construction(arguments, message):
    with pytest.raises(HeatClientConfigurationException, match=message):
        HeatClient(**arguments)


def test_from_env_reads_the_heat_variables_and_strips_the_trailing_slash(monkeypatch):
    monkeypatch.setenv("HEAT_BASE_URL", "https://heat.example.org/")
    monkeypatch.setenv("HEAT_USERNAME", "ada")
    monkeypatch.setenv("HEAT_PASSWORD", "pw")
    monkeypatch.delenv("HEAT_TOKEN", raising=False)

    with HeatClient.from_env(auto_connect=False) as client:
        assert client.base_url == "https://heat.example.org"
        assert client.options.username == "ada"
        assert client.options.uses_password
        assert client.options.remember_me is True
        assert client.options.auto_connect is False


def test_from_env_without_variables_is_a_configuration_error(monkeypatch):
    for name in ("HEAT_BASE_URL", "HEAT_TOKEN", "HEAT_USERNAME", "HEAT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(HeatClientConfigurationException, match="HEAT_BASE_URL"):
        HeatClient.from_env()


def test_an_explicit_token_replaces_credentials_from_the_environment():
    environ = {"HEAT_BASE_URL": "https://heat.example.org", "HEAT_USERNAME": "ada", "HEAT_PASSWORD": "pw"}

    options = HeatClientOptions.from_env(environ, token="hat_x")

    assert (options.token, options.username, options.password) == ("hat_x", None, None)


def test_secrets_stay_out_of_repr():
    options = HeatClientOptions(base_url="https://heat.example.org", username="ada", password="s3cret")

    assert "s3cret" not in repr(options)
    assert "s3cret" not in repr(HeatClient.from_options(options))


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_base_url_is_a_connection_error():
    with HeatClient(f"http://127.0.0.1:{_unused_port()}", token="hat_x", timeout=5) as client:
        with pytest.raises(HeatConnectionException, match="is not reachable"):
            client.connect()
        with pytest.raises(HeatConnectionException, match="is not reachable"):
            client.get_projects()  # auto-connect runs the health check first
        assert not client.is_connected
