import time
from datetime import timedelta

import pytest
from django.utils import timezone

from heatportal.accounts.models import AccessToken, RefreshToken
from heatportal.accounts.tasks import purge_stale_tokens
from heatportal.credentials import credential_issue
from tests.factories import UserFactory


def make_tokens():
    user = UserFactory()
    long_ago = timezone.now() - timedelta(days=31)
    stale = [
        credential_issue(AccessToken, user=user, expires_at=long_ago)[0],
        credential_issue(RefreshToken, user=user, revoked_at=long_ago)[0],
    ]
    live = [
        credential_issue(AccessToken, user=user)[0],
        credential_issue(RefreshToken, user=user, expires_at=timezone.now() - timedelta(days=1))[0],
    ]
    return stale, live


@pytest.mark.django_db
def test_purge_deletes_only_tokens_that_ended_long_ago():
    _stale, live = make_tokens()

    assert purge_stale_tokens() == 2
    assert purge_stale_tokens() == 0  # safe to run twice

    remaining = {
        *AccessToken.objects.values_list("pk", flat=True),
        *RefreshToken.objects.values_list("pk", flat=True),
    }
    assert remaining == {token.pk for token in live}


@pytest.mark.worker
def test_purge_runs_on_a_real_worker(celery_worker):
    stale, _live = make_tokens()

    purge_stale_tokens.delay()

    deadline = time.monotonic() + 30
    while AccessToken.objects.filter(pk=stale[0].pk).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not AccessToken.objects.filter(pk=stale[0].pk).exists()
    assert not RefreshToken.objects.filter(pk=stale[1].pk).exists()


def test_every_beat_entry_names_a_registered_task(settings):
    from heatportal.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
