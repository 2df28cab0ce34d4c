from django.core.management.base import CommandError

from heatportal.accounts.models import User
from heatportal.accounts.services import offline_token_create, tokens_issue
from heatportal.audit import AuditedCommand


class Command(AuditedCommand):
    help = "Issue a HEAT Auth access token for a user and print it (once; only its hash is kept)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--offline", action="store_true", help="a long-lived token that does not expire")
        parser.add_argument("--name", default="", help="name of the offline token (default: cli-<n>)")

    def handle(self, *args, username, offline, name, **options):
        try:
            user = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist as error:
            raise CommandError(f"No active user {username!r}.") from error
        if offline:
            name = name or f"cli-{user.access_tokens.filter(is_offline=True).count() + 1}"
            _token, value = offline_token_create(user=user, name=name)
        else:
            value = tokens_issue(user=user, remember_me=False).access_token
        self.stdout.write(value)
