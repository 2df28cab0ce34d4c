"""Sign-in, and the signed-in user's offline tokens: list, create (value shown once), revoke."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from heatportal.accounts import selectors, services
from heatportal.accounts.forms import LoginForm, OfflineTokenForm
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


@never_cache  # the page after a creation holds a secret: no cache may keep it
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
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
    created = None
    created_id = request.GET.get("created", "")
    token = (
        selectors.offline_tokens(request.user).filter(pk=created_id).first() if created_id.isdigit() else None
    )
    value = take_secret(request, f"access-token:{token.pk}") if token else None
    if value:
        created = {"token": token, "value": value}
    context = {"form": form, "tokens": selectors.offline_tokens(request.user), "created": created}
    return forget_secret(request, render(request, "accounts/tokens.html", context))


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(selectors.offline_tokens(request.user), pk=token_id)
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
