from django.core.management.base import CommandError

from crowd_app.models import CrowdAccount
from crowd_app.services import crowd_account_create, crowd_api_key_create
from heatportal.accounts.models import User
from heatportal.audit import AuditedCommand
from heatportal.services import ServiceError


class Command(AuditedCommand):
    help = "Create a crowd API key for USERNAME's crowd account (created if needed); printed once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--test", action="store_true", help="a staging key (test_...)")
        parser.add_argument("--account", help="account name (default: the user's first, or USERNAME)")
        parser.add_argument("--name", default="", help="a label for the key")

    def handle(self, *args, username, test, account, name, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        accounts = CrowdAccount.objects.filter(owner=user)
        crowd_account = accounts.filter(name=account).first() if account else accounts.first()
        if crowd_account is None:
            try:
                crowd_account = crowd_account_create(owner=user, name=account or username)
            except ServiceError as error:
                raise CommandError(error.message) from None
        _key, value = crowd_api_key_create(account=crowd_account, test=test, name=name)
        self.stdout.write(value)
