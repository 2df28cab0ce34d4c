import os

from django.db import transaction

from crowd_app.demo import seed_crowd
from heatportal.accounts.demo import seed_users, sign_in_hint
from heatportal.audit import AuditedCommand
from scenarios_app.demo import seed_scenarios
from sessions_app.demo import seed_sessions
from sites_app.demo import seed_sites


class Command(AuditedCommand):
    help = "Load demo data. Safe to run again: what exists is left as it is."

    @transaction.atomic
    def handle(self, *args, **options):
        for line in [*seed_users(), *seed_sessions(), *seed_sites(), *seed_scenarios(), *seed_crowd()]:
            self.stdout.write(f"  {line}")
        base_url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
        self.stdout.write(f"Sign in at {base_url}/login/ with one of (user, password):")
        for line in sign_in_hint():
            self.stdout.write(line)
