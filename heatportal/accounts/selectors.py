from django.db.models import QuerySet

from heatportal.accounts.models import AccessToken, User


def access_token_list(*, user: User, offline: bool | None = None) -> QuerySet[AccessToken]:
    """``user``'s tokens, newest first; ``offline`` keeps only offline (or only online) ones."""
    tokens = user.access_tokens.order_by("-created_at", "-id")
    if offline is not None:
        tokens = tokens.filter(is_offline=offline)
    return tokens
