"""Query counts that must not grow with the data."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crowd_app.models import CrowdAnswer, Cruncher
from crowd_app.notify import _done_bodies
from crowd_app.selectors import request_json, request_visible_to_key
from crowd_app.services import crowd_api_key_create, request_abort, request_create

pytestmark = pytest.mark.django_db(transaction=True)


def make_requests(api_key, count, answers=0):
    ids = []
    for n in range(count):
        crowd_request = request_create(
            api_key=api_key,
            request_type="free-text",
            body={"instruction": f"x{n}", "confidence": {"min_agreements": 5, "max_crunchers": 9}},
        )
        for m in range(answers):
            cruncher, _ = Cruncher.objects.get_or_create(
                simulated=True, name=f"r{m}", defaults={"cruncher_id": f"{m:032x}"}
            )
            CrowdAnswer.objects.create(request=crowd_request, cruncher=cruncher, response="a")
        ids.append(str(crowd_request.pk))
    return ids


def queries(function):
    with CaptureQueriesContext(connection) as context:
        function()
    return len(context.captured_queries)


def test_reading_a_request_does_not_grow_with_its_answers(account):
    api_key = crowd_api_key_create(account=account)[0]
    [few] = make_requests(api_key, 1, answers=1)
    [many] = make_requests(api_key, 1, answers=4)

    def read(request_id):
        return lambda: request_json(request_visible_to_key(api_key=api_key, request_id=request_id))

    assert queries(read(few)) == queries(read(many)) == 3


def test_waking_many_waiters_reads_in_a_fixed_number_of_queries(account):
    from crowd_app.models import CrowdRequest

    api_key = crowd_api_key_create(account=account)[0]
    ids = make_requests(api_key, 30, answers=2)
    CrowdRequest.objects.filter(pk__in=ids).update(status="complete", completed_at="2026-01-01T00:00:00Z")

    assert (
        queries(lambda: _done_bodies.__wrapped__(ids[:3]))
        == queries(lambda: _done_bodies.__wrapped__(ids))
        == 3
    )


def test_the_request_list_page_does_not_grow_with_the_rows(account):
    api_key = crowd_api_key_create(account=account)[0]
    client = Client()
    client.force_login(account.owner)
    make_requests(api_key, 2)
    few = queries(lambda: client.get("/requests/"))
    make_requests(api_key, 20)

    assert queries(lambda: client.get("/requests/")) == few


def test_the_request_list_filters_by_status_type_and_environment(account):
    api_key = crowd_api_key_create(account=account)[0]
    test_key = crowd_api_key_create(account=account, test=True)[0]
    live = request_create(api_key=api_key, request_type="free-text", body={"instruction": "live text"})
    request_create(api_key=test_key, request_type="rating", body={"instruction": "staging rating"})
    # A running worker may answer the staging request at any moment: only the live one's status
    # is the test's to set.
    request_abort(crowd_request=live)
    client = Client()
    client.force_login(account.owner)

    def listed(query):
        content = client.get(f"/requests/?{query}").content.decode()
        return [name for name in ("live text", "staging rating") if name in content]

    assert listed("") == ["live text", "staging rating"]
    assert listed("type=rating") == ["staging rating"]
    assert listed("staging=no") == ["live text"]
    assert listed("status=aborted") == ["live text"]
    assert Client().get("/requests/").status_code == 302  # sign-in needed


def test_pages_of_another_users_account_are_404(account):
    from tests.factories import UserFactory

    api_key = crowd_api_key_create(account=account)[0]
    crowd_request = request_create(api_key=api_key, request_type="free-text", body={"instruction": "mine"})
    stranger = Client()
    stranger.force_login(UserFactory())

    assert stranger.get(f"/requests/r/{crowd_request.pk}/").status_code == 404
    assert stranger.get(f"/requests/accounts/{account.pk}/").status_code == 404
    assert stranger.post(f"/requests/accounts/{account.pk}/webhook-secret/rotate").status_code == 404
    assert "mine" not in stranger.get("/requests/").content.decode()
