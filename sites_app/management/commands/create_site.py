from typing import Any

from django.core.management.base import CommandError, CommandParser

from heatportal.audit import AuditedCommand
from sites_app import services


class Command(AuditedCommand):
    help = (
        "Create a site with the standard asset set (grid, solar, BESS, EV, heat pump, genset, load) "
        "and print its id and its gateway's device token (shown only once)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", required=True, help="Access group name (created if missing).")
        parser.add_argument("--name", required=True, help="Site name.")

    def handle(self, *args: Any, group: str, name: str, **options: Any) -> None:
        try:
            access_group, created = services.access_group_get_or_create(name=group)
            if created:
                self.stderr.write(f"Created access group {access_group.name!r}.")
            site, token = services.site_create(access_group=access_group, name=name)
        except services.ServiceError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"site id:      {site.id}")
        self.stdout.write(f"device token: {token}")
