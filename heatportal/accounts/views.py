"""The signed-in user's offline tokens: list, create (value shown once), revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from heatportal.accounts import selectors, services
from heatportal.accounts.forms import OfflineTokenForm


@never_cache  # the POST response holds a secret: no cache may keep it
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """GET lists the tokens. POST creates one and renders its value in this response only (no
    redirect, nothing stored in the session), so it is shown once."""
    form = OfflineTokenForm(request.POST if request.method == "POST" else None)
    created = None
    if form.is_valid():
        try:
            token, value = services.offline_token_create(user=request.user, name=form.cleaned_data["name"])
        except ValueError as error:
            form.add_error("name", str(error))
        else:
            created = {"token": token, "value": value}
            form = OfflineTokenForm()
    context = {"form": form, "tokens": selectors.offline_tokens(request.user), "created": created}
    return render(request, "accounts/tokens.html", context)


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(selectors.offline_tokens(request.user), pk=token_id)
    services.access_token_revoke(token=token)
    messages.success(request, f"Token {token.name} revoked.")
    return redirect("account:tokens")
