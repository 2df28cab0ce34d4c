"""Query counts that must not grow with the data."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crowd_app.notify import _done_bodies
from crowd_app.selectors import request_get, request_json
from crowd_app.services import crowd_api_key_create, request_abort, request_create
from tests.crowd_app.factories import CrowdAnswerFactory, CruncherFactory

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
            cruncher = CruncherFactory(name=f"r{m}", cruncher_id=f"{m:032x}")
            CrowdAnswerFactory(request=crowd_request, cruncher=cruncher, response="a")
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
        return lambda: request_json(request_get(api_key=api_key, request_id=request_id))

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


class AllQueries:
    """The queries of every thread (async views query on the shared pool's threads, which
    CaptureQueriesContext on this thread's connection would not see), with their SQL."""

    def __init__(self):
        self.sql: list[str] = []

    def __enter__(self):
        from django.db.backends import utils

        self._original = original = utils.CursorWrapper._execute_with_wrappers
        captured = self.sql

        def counting(cursor, sql, *args, **kwargs):
            captured.append(sql)
            return original(cursor, sql, *args, **kwargs)

        utils.CursorWrapper._execute_with_wrappers = counting
        return self

    def __exit__(self, *exc):
        from django.db.backends import utils

        utils.CursorWrapper._execute_with_wrappers = self._original


def test_hot_endpoints_cost_one_query_besides_the_credential(account, settings):
    """GET /v1/requests/{id} (pending, and complete with answers) and POST /v1/requests/{type}:
    one query each once the key is verified (the credential cache answers the lookup)."""
    from crowd_app.models import CrowdRequest
    from tests.crowd_app.helpers import CrowdClient

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    api_key, value = crowd_api_key_create(account=account)
    api = CrowdClient(value)
    [pending] = make_requests(api_key, 1)
    [complete] = make_requests(api_key, 1, answers=3)
    CrowdRequest.objects.filter(pk=complete).update(status="complete", completed_at="2026-01-01T00:00:00Z")
    assert api.get(f"/v1/requests/{pending}").status_code == 200  # the key is verified and cached

    with AllQueries() as read_pending:
        assert api.get(f"/v1/requests/{pending}").json()["status"] == "pending"
    with AllQueries() as read_complete:
        body = api.get(f"/v1/requests/{complete}").json()
    with AllQueries() as create:
        assert api.post("/v1/requests/free-text", {"instruction": "x"}).status_code == 200

    assert len(body["crunchers"]) == 3 and body["raw_responses"] == dict.fromkeys(body["crunchers"], "a")
    assert (len(read_pending.sql), len(read_complete.sql), len(create.sql)) == (1, 1, 1), (
        read_pending.sql,
        read_complete.sql,
        create.sql,
    )
