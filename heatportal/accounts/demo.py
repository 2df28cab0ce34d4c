"""Demo users, one of each role. Passwords are set only when a user is first created."""

from heatportal.accounts.models import User
from heatportal.accounts.services import user_create

DEMO_USERS = (
    # username, role, password, staff
    ("admin", User.Role.ADMIN, "heat-admin", True),
    ("instructor", User.Role.INSTRUCTOR, "heat-instructor", False),
    ("trainee", User.Role.TRAINEE, "heat-trainee", False),
)


def seed_users() -> list[str]:
    lines = []
    for username, role, password, staff in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        user = user_create(username=username, role=role, password=password, is_staff=staff)
        if username == "admin":
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
        lines.append(f"created {role} {username}")
    return lines


def sign_in_hint() -> list[str]:
    return [f"  {username:<11} {password:<16} ({role})" for username, role, password, _ in DEMO_USERS]
