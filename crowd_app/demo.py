"""Demo data of crowd_app, loaded by `manage.py seed_demo`."""

from typing import cast

from crowd_app.api.inputs import request_params
from crowd_app.models import CrowdAccount, CrowdApiKey, CrowdRequest, RequestType
from crowd_app.services import (
    answer_submit,
    crowd_account_create,
    crowd_api_key_create,
    cruncher_for_user,
    cruncher_simulated,
)
from heatportal.accounts.models import User

# The sample test key of document 004: every example there runs verbatim against a local portal.
SAMPLE_TEST_KEY = "test_e53bbf19fdd077eda1cd933a54ebe987"
DEMO_ACCOUNT = "demo"
# The request id the document's retrieve and abort examples use: a completed staging request.
SAMPLE_REQUEST_ID = "44647b6f-b033-4788-9ee2-9d7aa5cb0158"
SAMPLE_REQUEST = {
    "instruction": "Does the image contain violent content?",
    "attachments_type": "image",
    "attachments": ["http://i.imgur.com/qRWH5.jpg"],
    "choices_type": "text",
    "choices": ["no violence", "mild violence", "intense violence"],
}


def seed_crowd() -> list[str]:
    """Create what is missing; return one line per thing created."""
    lines: list[str] = []
    owner = User.objects.filter(username="admin").first() or User.objects.filter(is_superuser=True).first()
    if owner is None:
        return lines
    account = CrowdAccount.objects.filter(name=DEMO_ACCOUNT).first()
    if account is None:
        account = crowd_account_create(owner=owner, name=DEMO_ACCOUNT)
        lines.append(f"created crowd account {DEMO_ACCOUNT}")
    lookup_id = cast(tuple[str, str], CrowdApiKey.TEST.parse(SAMPLE_TEST_KEY))[0]  # a valid key
    sample_key = CrowdApiKey.objects.filter(lookup_id=lookup_id).first()
    if sample_key is None:
        sample_key, _ = crowd_api_key_create(
            account=account, test=True, name="document 004 sample key", value=SAMPLE_TEST_KEY
        )
        lines.append(f"installed the sample crowd test key {SAMPLE_TEST_KEY}")
    if not CrowdRequest.objects.filter(pk=SAMPLE_REQUEST_ID).exists():
        crowd_request = CrowdRequest.objects.create(
            id=SAMPLE_REQUEST_ID,
            account=sample_key.account,
            api_key=sample_key,
            type=RequestType.MULTIPLE_CHOICE,
            params=request_params(RequestType.MULTIPLE_CHOICE, SAMPLE_REQUEST),
            staging=True,
        )
        answer_submit(
            crowd_request=crowd_request, cruncher=cruncher_simulated(number=1), response=["no violence"]
        )
        lines.append(f"created the document's sample request {SAMPLE_REQUEST_ID} (complete)")
    for username in ("instructor", "trainee"):
        user = User.objects.filter(username=username).first()
        if user is not None and not hasattr(user, "cruncher"):
            cruncher_for_user(user=user)
            lines.append(f"made {username} a cruncher")
    return lines
