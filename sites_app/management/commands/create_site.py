from django.core.management.base import CommandError

from heatportal.audit import AuditedCommand
from sites_app import services
from sites_app.models import AccessGroup


class Command(AuditedCommand):
    help = (
        "Create a site with the standard asset set (grid, solar, BESS, EV, heat pump, genset, load) "
        "and print its id and its gateway's device token (shown only once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--group", required=True, help="Access group name (created if missing).")
        parser.add_argument("--name", required=True, help="Site name.")

    def handle(self, *args, group, name, **options):
        access_group = AccessGroup.objects.filter(name=group.strip()).first()
        try:
            if access_group is None:
                access_group = services.access_group_create(name=group)
                self.stderr.write(f"Created access group {access_group.name!r}.")
            site, token = services.site_create(access_group=access_group, name=name)
        except services.ServiceError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"site id:      {site.id}")
        self.stdout.write(f"device token: {token}")
