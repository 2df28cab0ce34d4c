"""HEAT Auth's request bodies, validated after their keys are put in snake_case."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from heatportal.api.heat import text_constraints

Username = Annotated[str, text_constraints(150)]
Password = Annotated[str, text_constraints(1024, trim=False)]  # a password is taken exactly as typed
RefreshTokenValue = Annotated[str, text_constraints(200)]


class LoginInput(BaseModel):
    username: Username
    password: Password
    remember_me: bool = True


class RefreshInput(BaseModel):
    refresh_token: RefreshTokenValue
