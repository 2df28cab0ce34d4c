"""Sign-in, and the signed-in user's offline tokens: list, create (value shown once), revoke."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from heatportal.accounts import selectors, services
from heatportal.accounts.forms import LoginForm, OfflineTokenForm
from heatportal.accounts.models import AccessToken, User
from heatportal.oneshot import forget_secret, redirect_with_secret, take_secret
from heatportal.pages import confirmation


def login_throttled_response(response: HttpResponse) -> HttpResponse:
    """A sign-in page refused for too many failures answers 429 with ``Retry-After`` (the
    page itself says so); used by the portal's and the admin's sign-in pages."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    retry_after = getattr(form, "retry_after", None)
    if retry_after is not None:
        response.status_code = 429
        response["Retry-After"] = str(retry_after)
    return response


class LoginView(auth_views.LoginView):
    form_class = LoginForm

    def form_invalid(self, form):
        return login_throttled_response(super().form_invalid(form))


class SignedInRequest(HttpRequest):
    """A request past ``login_required``: its user is a real one (the django-stubs pattern)."""

    user: User


@never_cache  # the page after a creation holds a secret: no cache may keep it
@login_required
def tokens(request: SignedInRequest) -> HttpResponse:
    """GET lists the tokens. POST creates one and redirects here; the new token's value comes
    along encrypted (heatportal.oneshot) and is shown this once: a reload creates nothing."""
    form = OfflineTokenForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            token, value = services.offline_token_create(user=request.user, name=form.cleaned_data["name"])
        except ValueError as error:
            form.add_error("name", str(error))
        else:
            to = f"{reverse('account:tokens')}?created={token.pk}"
            return redirect_with_secret(to, subject=f"access-token:{token.pk}", secret=value)
    offline_tokens = selectors.access_token_list(user=request.user, offline=True)
    context = {"form": form, "tokens": offline_tokens, "created": _created_token(request, offline_tokens)}
    return forget_secret(request, render(request, "accounts/tokens.html", context))


def _created_token(request: HttpRequest, offline_tokens: QuerySet[AccessToken]) -> dict[str, Any] | None:
    """The token named by ``?created=`` with its value, the one time the value can be taken."""
    created_id = request.GET.get("created", "")
    created = offline_tokens.filter(pk=created_id).first() if created_id.isdigit() else None
    value = take_secret(request, f"access-token:{created.pk}") if created else None
    return {"token": created, "value": value} if value else None


@require_POST
@login_required
def token_revoke(request: SignedInRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(selectors.access_token_list(user=request.user, offline=True), pk=token_id)
    asked = confirmation(
        request,
        action=f"Revoke token {token.name}",
        consequence="Every request that presents it is refused from then on; a revoked token "
        "cannot be restored.",
        cancel_url=reverse("account:tokens"),
    )
    if asked:
        return asked
    services.access_token_revoke(token=token)
    messages.success(request, f"Token {token.name} revoked.")
    return redirect("account:tokens")
