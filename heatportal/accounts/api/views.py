"""HEAT Auth: sign in, refresh (with rotation) and sign out."""

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions

from heatportal.accounts import services
from heatportal.accounts.api import inputs, outputs, schema
from heatportal.accounts.authentication import BearerTokenAuthentication
from heatportal.api.heat import HeatApiView
from heatportal.api.schema import error_responses
from heatportal.credentials import CredentialThrottled
from heatportal.ratelimit import client_address


class AuthView(HeatApiView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]


class LoginView(AuthView):
    @extend_schema(
        request=schema.LoginInput, responses={200: schema.TokensOutput, **error_responses(401, 429)}
    )
    def post(self, request):
        data = self.parse(inputs.LoginInput, "Invalid request.")
        try:
            tokens = services.login(
                username=data.username,
                password=data.password,
                remember_me=data.remember_me,
                client_ip=client_address(request),
            )
        except services.LoginThrottled as throttled:
            raise exceptions.Throttled(wait=throttled.retry_after) from throttled
        except services.AuthenticationFailed as error:
            raise exceptions.AuthenticationFailed("Unauthorized") from error
        return outputs.tokens(tokens)


class RefreshView(AuthView):
    @extend_schema(
        request=schema.RefreshInput, responses={200: schema.TokensOutput, **error_responses(401, 429)}
    )
    def post(self, request):
        data = self.parse(inputs.RefreshInput, "Invalid request.")
        try:
            tokens = services.tokens_refresh(
                refresh_token=data.refresh_token, client_ip=client_address(request)
            )
        except CredentialThrottled as throttled:
            raise exceptions.Throttled(wait=throttled.retry_after, detail=str(throttled)) from throttled
        except services.AuthenticationFailed as error:
            raise exceptions.AuthenticationFailed("Unauthorized") from error
        return outputs.tokens(tokens)


class LogoutView(AuthView):
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.access_token_revoke(token=request.auth)
        response = HttpResponse(status=204)
        del response["Content-Type"]
        return response
