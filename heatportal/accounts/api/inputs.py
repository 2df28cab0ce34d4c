"""HEAT Auth's request bodies, validated after their keys are put in snake_case."""

from __future__ import annotations

from pydantic import BaseModel

from heatportal.api.heat import Text

Username = Text(150)
Password = Text(1024, trim=False)  # a password is taken exactly as typed
RefreshTokenValue = Text(200)


class LoginInput(BaseModel):
    username: Username
    password: Password
    remember_me: bool = True


class RefreshInput(BaseModel):
    refresh_token: RefreshTokenValue
