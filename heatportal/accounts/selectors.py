from django.db.models import QuerySet

from heatportal.accounts.models import AccessToken, User


def offline_tokens(user: User) -> QuerySet[AccessToken]:
    return user.access_tokens.filter(is_offline=True).order_by("-created_at", "-id")
