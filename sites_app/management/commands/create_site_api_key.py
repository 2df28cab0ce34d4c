from typing import Any

from django.core.management.base import CommandError, CommandParser

from heatportal.audit import AuditedCommand
from sites_app import services
from sites_app.api.inputs import parse_timestamp


class Command(AuditedCommand):
    help = "Create a public-API key of an access group and print it (it is shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", required=True, help="Access group name (created if missing).")
        parser.add_argument("--name", required=True, help="Key name, unique in the group.")
        parser.add_argument("--expires-at", help="Optional expiry, ISO 8601 with a time zone.")

    def handle(
        self, *args: Any, group: str, name: str, expires_at: str | None = None, **options: Any
    ) -> None:
        expiry = None
        if expires_at:
            expiry = parse_timestamp(expires_at)
            if expiry is None:
                raise CommandError("--expires-at must be an ISO 8601 date-time with a time zone.")
        try:
            access_group, created = services.access_group_get_or_create(name=group)
            if created:
                self.stderr.write(f"Created access group {access_group.name!r}.")
            key, value = services.api_key_create(access_group=access_group, name=name, expires_at=expiry)
        except services.ServiceError as error:
            raise CommandError(error.message) from error
        self.stderr.write(f"Key {key.name!r} of {access_group.name!r}; store it now, it is not shown again:")
        self.stdout.write(value)
