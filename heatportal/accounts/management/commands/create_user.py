from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from heatportal.accounts.models import User
from heatportal.accounts.services import user_create
from heatportal.audit import AuditedCommand


class Command(AuditedCommand):
    help = "Create a portal user with a role. Without --password the user cannot sign in yet."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=User.Role.values)
        parser.add_argument("--password", default=None)
        parser.add_argument("--email", default="")
        parser.add_argument("--staff", action="store_true", help="may sign in to /admin/")

    def handle(self, *args, username, role, password, email, staff, **options):
        try:
            user = user_create(username=username, role=role, password=password, email=email, is_staff=staff)
        except (ValueError, ValidationError) as error:
            messages = getattr(error, "messages", [str(error)])
            raise CommandError("; ".join(messages)) from error
        note = "" if password else " (no password set: set one with `manage.py changepassword`)"
        self.stdout.write(f"Created {user.role} {user.username}{' (staff)' if staff else ''}{note}.")
