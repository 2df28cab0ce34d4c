"""HEAT Auth: sign in, refresh (with rotation) and sign out."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response

from heatportal.accounts import services
from heatportal.accounts.api.serializers import LoginInput, RefreshInput, TokensOutput
from heatportal.accounts.authentication import BearerTokenAuthentication
from heatportal.api.errors import HEAT, FamilyAPIView, RequestError
from heatportal.api.fields import snake_keys
from heatportal.api.schema import error_responses
from heatportal.credentials import CredentialThrottled
from heatportal.ratelimit import client_address


class AuthView(FamilyAPIView):
    error_family = HEAT
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    def parse(self, serializer_class, request) -> dict:
        data = snake_keys(request.data)
        serializer = serializer_class(data=data if isinstance(data, dict) else {})
        if not serializer.is_valid():
            raise RequestError(400, "Invalid request.", serializer.errors)
        return serializer.validated_data


class LoginView(AuthView):
    @extend_schema(request=LoginInput, responses={200: TokensOutput, **error_responses(401, 429)})
    def post(self, request):
        data = self.parse(LoginInput, request)
        try:
            tokens = services.login(
                username=data["username"],
                password=data["password"],
                remember_me=data["remember_me"],
                client_ip=client_address(request),
            )
        except services.LoginThrottled as throttled:
            raise exceptions.Throttled(wait=throttled.retry_after) from throttled
        except services.AuthenticationFailed as error:
            raise exceptions.AuthenticationFailed("Unauthorized") from error
        return Response(TokensOutput(tokens).data)


class RefreshView(AuthView):
    @extend_schema(request=RefreshInput, responses={200: TokensOutput, **error_responses(401, 429)})
    def post(self, request):
        data = self.parse(RefreshInput, request)
        try:
            tokens = services.tokens_refresh(
                refresh_token=data["refresh_token"], client_ip=client_address(request)
            )
        except CredentialThrottled as throttled:
            raise exceptions.Throttled(wait=throttled.retry_after, detail=str(throttled)) from throttled
        except services.AuthenticationFailed as error:
            raise exceptions.AuthenticationFailed("Unauthorized") from error
        return Response(TokensOutput(tokens).data)


class LogoutView(AuthView):
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.access_token_revoke(token=request.auth)
        return Response(status=204)
