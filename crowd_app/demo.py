"""Demo data of crowd_app, loaded by `manage.py seed_demo`."""

from crowd_app.models import CrowdAccount, CrowdApiKey
from crowd_app.services import crowd_account_create, crowd_api_key_create, cruncher_for_user
from heatportal.accounts.models import User

# The sample test key of document 004: every example there runs verbatim against a local portal.
SAMPLE_TEST_KEY = "test_e53bbf19fdd077eda1cd933a54ebe987"
DEMO_ACCOUNT = "demo"


def seed_crowd() -> list[str]:
    """Create what is missing; return one line per thing created."""
    lines = []
    owner = User.objects.filter(username="admin").first() or User.objects.filter(is_superuser=True).first()
    if owner is None:
        return lines
    account = CrowdAccount.objects.filter(name=DEMO_ACCOUNT).first()
    if account is None:
        account = crowd_account_create(owner=owner, name=DEMO_ACCOUNT)
        lines.append(f"created crowd account {DEMO_ACCOUNT}")
    lookup_id = CrowdApiKey.TEST.parse(SAMPLE_TEST_KEY)[0]
    if not CrowdApiKey.objects.filter(lookup_id=lookup_id).exists():
        crowd_api_key_create(
            account=account, test=True, name="document 004 sample key", value=SAMPLE_TEST_KEY
        )
        lines.append(f"installed the sample crowd test key {SAMPLE_TEST_KEY}")
    for username in ("instructor", "trainee"):
        user = User.objects.filter(username=username).first()
        if user is not None and not hasattr(user, "cruncher"):
            cruncher_for_user(user=user)
            lines.append(f"made {username} a cruncher")
    return lines
