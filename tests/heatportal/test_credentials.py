from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crowd_app.models import CrowdApiKey
from heatportal.accounts.models import AccessToken, RefreshToken
from heatportal.credentials import (
    InvalidCredential,
    credential_authenticate,
    credential_issue,
    credential_revoke,
    hash_secret,
)
from sites_app.models import SiteApiKey, SiteDeviceToken
from tests.factories import AccessGroupFactory, CrowdAccountFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

SAMPLE_CROWD_KEY = "test_e53bbf19fdd077eda1cd933a54ebe987"


def issue_each_kind():
    """One credential of every kind in the contract, with the value handed to the client."""
    user = UserFactory()
    group = AccessGroupFactory()
    account = CrowdAccountFactory(owner=user)
    return [
        credential_issue(AccessToken, user=user),
        credential_issue(AccessToken, user=user, name="simulator", is_offline=True),
        credential_issue(RefreshToken, user=user),
        credential_issue(SiteApiKey, access_group=group, name="ops"),
        credential_issue(SiteDeviceToken, site=SiteFactory(access_group=group)),
        credential_issue(CrowdApiKey, account=account),
        credential_issue(CrowdApiKey, kind=CrowdApiKey.TEST, account=account),
    ]


def test_issued_values_have_their_documented_shapes():
    values = [value for _credential, value in issue_each_kind()]

    assert values[0].startswith("hat_")
    assert values[2].startswith("hrt_")
    assert values[3].startswith("agk_") and ".ags_" in values[3]
    assert values[4].startswith("hdt_")
    assert len(values[5]) == 32 and all(c in "0123456789abcdef" for c in values[5])
    assert values[6].startswith("test_") and len(values[6]) == 37


def test_no_secret_is_stored_in_plaintext():
    issued = issue_each_kind()

    for credential, value in issued:
        _lookup_id, secret = credential.credential_kind.parse(value)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {credential._meta.db_table}")  # noqa: S608 (our table name)
            stored = " ".join(str(cell) for row in cursor.fetchall() for cell in row)
        assert secret not in stored, credential._meta.db_table
        assert value not in stored
        assert hash_secret(secret) in stored  # what is stored instead


@pytest.mark.parametrize("index", range(7))
def test_each_kind_authenticates_with_its_value(index):
    credential, value = issue_each_kind()[index]

    found = credential_authenticate(type(credential).objects.all(), value)

    assert found.pk == credential.pk


def test_unknown_id_wrong_secret_and_garbage_fail_the_same_way():
    credential, value = credential_issue(AccessToken, user=UserFactory())
    kind = credential.credential_kind
    other_id, other_secret = kind.generate()
    attempts = [
        kind.format(credential.lookup_id, other_secret),  # wrong secret
        kind.format(other_id, kind.parse(value)[1]),  # unknown id
        "not a token",
        "",
        value + "x",
    ]
    for attempt in attempts:
        with pytest.raises(InvalidCredential) as raised:
            credential_authenticate(AccessToken.objects.all(), attempt)
        assert str(raised.value) == ""  # no hint about which part was wrong


def test_expired_and_revoked_credentials_are_refused():
    user = UserFactory()
    _expired, expired_value = credential_issue(
        AccessToken, user=user, expires_at=timezone.now() - timedelta(seconds=1)
    )
    revoked, revoked_value = credential_issue(AccessToken, user=user)
    credential_revoke(revoked)

    for value in (expired_value, revoked_value):
        with pytest.raises(InvalidCredential):
            credential_authenticate(AccessToken.objects.all(), value)
    revoked.refresh_from_db()
    assert revoked.revoked_at is not None


def test_a_credential_is_only_found_in_its_own_scope():
    mine, _ = credential_issue(SiteApiKey, access_group=AccessGroupFactory(), name="a")
    _theirs, their_value = credential_issue(SiteApiKey, access_group=AccessGroupFactory(), name="b")

    with pytest.raises(InvalidCredential):
        credential_authenticate(SiteApiKey.objects.filter(access_group=mine.access_group), their_value)


def test_last_used_is_written_at_most_once_per_interval(settings):
    settings.CREDENTIAL_LAST_USED_INTERVAL = timedelta(minutes=1)
    credential, value = credential_issue(AccessToken, user=UserFactory())
    assert credential.last_used_at is None

    first = credential_authenticate(AccessToken.objects.all(), value)
    with CaptureQueriesContext(connection) as queries:
        credential_authenticate(AccessToken.objects.all(), value)

    assert first.last_used_at is not None
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    AccessToken.objects.filter(pk=credential.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    credential_authenticate(AccessToken.objects.all(), value)
    credential.refresh_from_db()
    assert timezone.now() - credential.last_used_at < timedelta(seconds=5)


def test_a_known_value_can_be_registered_and_then_authenticates():
    account = CrowdAccountFactory()

    key, value = credential_issue(CrowdApiKey, kind=CrowdApiKey.TEST, value=SAMPLE_CROWD_KEY, account=account)

    assert value == SAMPLE_CROWD_KEY
    assert key.is_test
    assert credential_authenticate(CrowdApiKey.objects.all(), SAMPLE_CROWD_KEY).pk == key.pk


def test_masked_form_shows_no_secret():
    credential, value = credential_issue(SiteApiKey, access_group=AccessGroupFactory(), name="ops")

    secret = credential.credential_kind.parse(value)[1]
    assert credential.masked == f"agk_{credential.lookup_id}.ags_…"
    assert secret not in credential.masked
