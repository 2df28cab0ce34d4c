"""Options of the HEAT client, given as arguments or read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from heat_client.exceptions import HeatClientConfigurationException

ENV_BASE_URL = "HEAT_BASE_URL"
ENV_TOKEN = "HEAT_TOKEN"  # noqa: S105 (the name of a variable, not a secret)
ENV_USERNAME = "HEAT_USERNAME"
ENV_PASSWORD = "HEAT_PASSWORD"  # noqa: S105 (the name of a variable, not a secret)

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class HeatClientOptions:
    """Where HEAT is and how to sign in: a token, or a user name and password.

    ``base_url`` is the HEAT ingress URL (``https://your-env.heatvr.io``); a trailing slash is
    removed. ``timeout`` is in seconds per network operation (connect, each read, each write), so
    a large upload does not time out as long as bytes keep moving.
    """

    base_url: str
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    remember_me: bool = True
    auto_connect: bool = True
    timeout: float | httpx.Timeout = DEFAULT_TIMEOUT
    verify: bool | str = True

    def __post_init__(self) -> None:
        base_url = (self.base_url or "").strip().rstrip("/")
        if not base_url:
            raise HeatClientConfigurationException(
                f"No HEAT base URL: pass base_url or set {ENV_BASE_URL} "
                "(e.g. https://your-env.heatvr.io, without a trailing slash)."
            )
        if not base_url.startswith(("http://", "https://")):
            raise HeatClientConfigurationException(
                f"HEAT base URL {base_url!r} must start with http:// or https://."
            )
        object.__setattr__(self, "base_url", base_url)
        has_token = bool(self.token)
        if not has_token and not (self.username and self.password):
            if self.username:
                problem = f"No password for HEAT user {self.username!r}"
            elif self.password:
                problem = "A HEAT password without a user name"
            else:
                problem = "No HEAT credentials"
            raise HeatClientConfigurationException(
                f"{problem}: set either token ({ENV_TOKEN}) or both username and password "
                f"({ENV_USERNAME}, {ENV_PASSWORD})."
            )
        if has_token and (self.username or self.password):
            raise HeatClientConfigurationException(
                "Both a token and a user name/password were given: set only one of them."
            )

    @property
    def uses_password(self) -> bool:
        return not self.token

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> HeatClientOptions:
        """Options from ``HEAT_BASE_URL``, ``HEAT_TOKEN``, ``HEAT_USERNAME`` and ``HEAT_PASSWORD``;
        keyword arguments that are not None take precedence."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "base_url": environ.get(ENV_BASE_URL, ""),
            "token": environ.get(ENV_TOKEN) or None,
            "username": environ.get(ENV_USERNAME) or None,
            "password": environ.get(ENV_PASSWORD) or None,
        }
        values.update({name: value for name, value in overrides.items() if value is not None})
        if overrides.get("token"):
            # An explicit token replaces credentials from the environment (and vice versa).
            values["username"] = values["password"] = None
        elif overrides.get("username") or overrides.get("password"):
            values["token"] = None
        return cls(**values)
