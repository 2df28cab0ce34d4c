"""Portal pages without a browser: access, errors shown in forms, and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scenarios_app import services
from scenarios_app.models import Scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/scenarios/", "/scenarios/s/00000000-0000-0000-0000-000000000000/"])
def test_pages_need_a_sign_in(client, path):
    response = client.get(path)

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_unknown_sessions_scenarios_and_datasets_are_404(signed_in, main):
    base = f"/scenarios/s/{main.pk}"
    assert signed_in.get("/scenarios/s/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert signed_in.get(f"{base}/data/nope/").status_code == 404
    assert signed_in.get(f"{base}/scenarios/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert signed_in.get(f"{base}/scenarios/new/?algo=Nope").status_code == 404


def test_a_duplicate_tag_is_shown_on_the_form(signed_in, main):
    services.scenario_create(session=main, tag="taken", dataset_key="Master data", algo_name="Slow")

    response = signed_in.post(
        f"/scenarios/s/{main.pk}/scenarios/new/",
        {"algo_name": "Slow", "tag": "taken", "dataset_key": "Master data", "p_duration": 2},
    )

    assert response.status_code == 200
    assert "A scenario with tag &#x27;taken&#x27; already exists." in response.content.decode()
    assert Scenario.objects.count() == 1


def test_run_from_the_list_queues_and_a_second_run_is_refused_with_a_message(signed_in, main):
    scenario = services.scenario_create(session=main, tag="t", dataset_key="Master data", algo_name="Slow")
    url = f"/scenarios/s/{main.pk}/scenarios/{scenario.pk}/run/"

    signed_in.post(url, {"next": f"/scenarios/s/{main.pk}/"})
    response = signed_in.post(url, {"next": f"/scenarios/s/{main.pk}/"}, follow=True)

    assert Scenario.objects.get(pk=scenario.pk).status == "queued"
    assert "is queued, not created" in response.content.decode()


def test_the_session_page_query_count_does_not_grow_with_scenarios(signed_in, main):
    services.scenario_create(session=main, tag="first", dataset_key="Master data", algo_name="Slow")
    with CaptureQueriesContext(connection) as few:
        signed_in.get(f"/scenarios/s/{main.pk}/")
    for index in range(5):
        services.scenario_create(
            session=main, tag=f"more-{index}", dataset_key="Master data", algo_name="Slow"
        )
    with CaptureQueriesContext(connection) as many:
        response = signed_in.get(f"/scenarios/s/{main.pk}/")

    assert response.status_code == 200
    assert len(many) == len(few)
