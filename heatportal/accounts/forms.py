from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from heatportal.accounts import services
from heatportal.accounts.models import AccessToken
from heatportal.ratelimit import client_address


class ThrottledLoginMixin:
    """Sign-in forms check the password through the service that HEAT Auth uses, so that the
    sign-in page, the admin's and ``POST /auth/login`` share one set of failure counters.
    ``retry_after`` is set when the sign-in was refused for too many failures."""

    retry_after: int | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = services.password_authenticate(
                    request=self.request,
                    username=username,
                    password=password,
                    client_ip=client_address(self.request),
                )
            except services.LoginThrottled as throttled:
                self.retry_after = throttled.retry_after
                raise ValidationError(
                    "Too many failed sign-in attempts. Try again in %(seconds)s seconds.",
                    code="throttled",
                    params={"seconds": throttled.retry_after},
                ) from None
            except services.AuthenticationFailed:
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class OfflineTokenForm(forms.Form):
    name = forms.CharField(
        max_length=AccessToken._meta.get_field("name").max_length,
        help_text="What the token is for, e.g. the machine or script that uses it.",
    )
