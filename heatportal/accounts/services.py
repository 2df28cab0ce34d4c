from django.db import transaction

from heatportal.accounts.models import User


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    password: str | None = None,
    email: str = "",
    is_staff: bool = False,
) -> User:
    """Create a user. Without a password the account cannot sign in until one is set."""
    if role not in User.Role.values:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(User.Role.values)}.")
    user = User(username=username, email=email, role=role, is_staff=is_staff)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user
