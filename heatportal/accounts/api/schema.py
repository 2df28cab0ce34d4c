"""HEAT Auth's bodies as the OpenAPI document describes them: documentation only (bodies are
validated by ``inputs.py`` and built by ``outputs.py``). The API takes any casing."""

from rest_framework import serializers

from heatportal.api.fields import StrictCharField


class LoginInput(serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=1024, trim_whitespace=False)
    remember_me = serializers.BooleanField(required=False, default=True)


class RefreshInput(serializers.Serializer):
    refresh_token = StrictCharField(max_length=200)


class TokensOutput(serializers.Serializer):
    accessToken = serializers.CharField(source="access_token")
    refreshToken = serializers.CharField(source="refresh_token", required=False)  # only with rememberMe
    tokenType = serializers.CharField(default="Bearer")
    expiresIn = serializers.IntegerField(source="expires_in")
