"""Who may do what in the scenario runner (heatportal.permissions, docs/permissions.md), through
the API and the pages: everyone reads and creates; only the owner or an administrator changes
or deletes; what belongs to the installation (``main``, ``Master data``) only an administrator."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from scenarios_app import datasets, services
from scenarios_app.models import Dataset, RunnerSession, Scenario
from tests.factories import UserFactory
from tests.helpers import bearer_client
from tests.scenarios_app.helpers import API, create_scenario

pytestmark = pytest.mark.django_db

ROLES = ["Admin", "Instructor", "Trainee"]


@pytest.fixture
def others_scenario(main):
    """A scenario of another (non-admin) user in ``main``."""
    return services.scenario_create(
        session=main, tag="theirs", dataset_key="Master data", algo_name="Slow", owner=UserFactory()
    )


def forbidden(response) -> bool:
    """403 in the runner's error shape (document 003: FastAPI's {"detail": ...})."""
    return response.status_code == 403 and set(response.json()) == {"detail"}


@pytest.mark.parametrize("role", ROLES)
def test_everyone_creates_runs_resets_and_deletes_their_own_scenario(role, main):
    api = bearer_client(role)

    scenario = create_scenario(api, tag="mine")
    run = api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/run")
    Scenario.objects.filter(pk=scenario["id"]).update(status="complete")  # as a worker would
    reset = api.post(f"{API}/sessions/main/scenarios/{scenario['id']}/reset")
    deleted = api.delete(f"{API}/sessions/main/scenarios/{scenario['id']}")

    assert (run.status_code, reset.status_code, deleted.status_code) == (202, 200, 204)
    assert not Scenario.objects.filter(pk=scenario["id"]).exists()


@pytest.mark.parametrize("role", ["Instructor", "Trainee"])
def test_others_scenarios_are_read_but_not_run_reset_or_deleted(role, others_scenario):
    api = bearer_client(role)
    base = f"{API}/sessions/main/scenarios/{others_scenario.pk}"

    assert api.get(base).status_code == 200
    assert api.get(f"{base}/status").status_code == 200
    assert forbidden(api.post(f"{base}/run"))
    assert forbidden(api.post(f"{base}/reset"))
    assert forbidden(api.delete(base))
    assert Scenario.objects.get(pk=others_scenario.pk).status == "created"


def test_an_administrator_runs_and_deletes_anyones_scenario(others_scenario):
    api = bearer_client("Admin")
    base = f"{API}/sessions/main/scenarios/{others_scenario.pk}"

    assert api.post(f"{base}/run").status_code == 202
    Scenario.objects.filter(pk=others_scenario.pk).update(status="failed")
    assert api.delete(base).status_code == 204


@pytest.mark.parametrize("role", ["Instructor", "Trainee"])
def test_the_installations_session_and_master_data_are_only_an_administrators_to_change(role, main):
    api = bearer_client(role)

    assert forbidden(api.patch(f"{API}/sessions/main", {"display_name": "mine now"}, format="json"))
    assert forbidden(api.delete(f"{API}/sessions/main"))
    assert forbidden(api.delete(f"{API}/sessions/main/data/Master data"))
    assert RunnerSession.objects.filter(display_name="main").exists()
    assert Dataset.objects.filter(session=main, key="Master data").exists()
    admin = bearer_client("Admin")
    assert admin.patch(f"{API}/sessions/main", {"display_name": "renamed"}, format="json").status_code == 200


@pytest.mark.parametrize("role", ["Instructor", "Trainee"])
def test_a_user_owns_the_session_they_create_and_what_they_put_in_it(role, main):
    api = bearer_client(role)
    other = bearer_client("Trainee")

    assert api.post(f"{API}/sessions", {"display_name": "mine"}, format="json").status_code == 201
    session = RunnerSession.objects.get(display_name="mine")
    assert session.owner == api.user
    payload = datasets.dataset_to_json(Dataset.objects.get(session=main, key="Master data"))
    payload["key"] = "my data"
    assert api.post(f"{API}/sessions/mine/data/from-json", payload, format="json").status_code == 201
    assert Dataset.objects.get(session=session, key="my data").owner == api.user

    assert forbidden(other.patch(f"{API}/sessions/mine", {"display_name": "theirs"}, format="json"))
    assert forbidden(other.delete(f"{API}/sessions/mine/data/my data"))
    assert forbidden(other.post(f"{API}/sessions/mine/data/from-json", payload, format="json"))  # overwrite
    assert forbidden(other.delete(f"{API}/sessions/mine"))
    assert api.delete(f"{API}/sessions/mine").status_code == 200
    assert not RunnerSession.objects.filter(display_name="mine").exists()


def test_an_etl_upload_over_someone_elses_dataset_is_refused_and_changes_nothing(main):
    owner, other = bearer_client("Trainee"), bearer_client("Trainee")
    payload = datasets.dataset_to_json(Dataset.objects.get(session=main, key="Master data"))
    payload["key"] = "shared name"
    owner.post(f"{API}/sessions/main/data/from-json", payload, format="json")
    before = Dataset.objects.get(session=main, key="shared name").tables
    csv = b"timestamp,load_kw,pv_kw,price_eur_per_kwh\n2026-01-01T00:00:00Z,1,0,0.2\n"

    response = other.post(
        f"{API}/sessions/main/etl",
        {"dataset_name": "shared name", "files": [SimpleUploadedFile("profile.csv", csv)]},
        format="multipart",
    )

    assert forbidden(response)
    assert Dataset.objects.get(session=main, key="shared name").tables == before


# --- Pages ------------------------------------------------------------------------------------


@pytest.fixture
def trainee_client(client):
    user = UserFactory(role="Trainee")
    client.force_login(user)
    client.user = user
    return client


def test_a_trainee_is_refused_deleting_the_installations_session_on_the_page(trainee_client, main):
    page = trainee_client.get(f"/scenarios/s/{main.pk}/").content.decode()
    response = trainee_client.post(f"/scenarios/s/{main.pk}/delete/", {"confirm": "yes"})

    assert "Delete session" not in page and "Rename</button>" not in page
    assert "Owner: the installation" in page
    assert response.status_code == 403
    assert RunnerSession.objects.filter(pk=main.pk).exists()


def test_a_trainee_is_refused_running_someone_elses_scenario_on_the_page(trainee_client, others_scenario):
    url = f"/scenarios/s/{others_scenario.session_id}/scenarios/{others_scenario.pk}/"
    page = trainee_client.get(url).content.decode()

    response = trainee_client.post(f"{url}run/")

    assert ">Run</button>" not in page
    assert response.status_code == 403
    assert Scenario.objects.get(pk=others_scenario.pk).status == "created"


def test_deleting_a_session_asks_first_and_then_reports_what_it_did(trainee_client, main):
    session = services.session_create(display_name="scratch", owner=trainee_client.user)
    url = f"/scenarios/s/{session.pk}/delete/"

    asked = trainee_client.post(url)
    assert asked.status_code == 200
    assert "Delete session &#x27;scratch&#x27;?" in asked.content.decode()
    assert RunnerSession.objects.filter(pk=session.pk).exists()  # nothing deleted yet

    done = trainee_client.post(url, {"confirm": "yes"}, follow=True)
    assert not RunnerSession.objects.filter(pk=session.pk).exists()
    assert "Session &#x27;scratch&#x27; deleted" in done.content.decode()


def test_reset_and_delete_of_a_scenario_ask_first(trainee_client, main):
    scenario = services.scenario_create(
        session=main, tag="mine", dataset_key="Master data", algo_name="Slow", owner=trainee_client.user
    )
    Scenario.objects.filter(pk=scenario.pk).update(status="complete", result={"x": 1})
    base = f"/scenarios/s/{main.pk}/scenarios/{scenario.pk}"

    for action in ("reset", "delete"):
        asked = trainee_client.post(f"{base}/{action}/")
        assert asked.status_code == 200 and f"{action.capitalize()} scenario" in asked.content.decode()
    assert Scenario.objects.get(pk=scenario.pk).result == {"x": 1}

    trainee_client.post(f"{base}/reset/", {"confirm": "yes"})
    assert Scenario.objects.get(pk=scenario.pk).status == "created"
    trainee_client.post(f"{base}/delete/", {"confirm": "yes"})
    assert not Scenario.objects.filter(pk=scenario.pk).exists()


def test_reloading_after_an_etl_upload_does_not_run_it_again(trainee_client, main):
    csv = b"timestamp,load_kw,pv_kw,price_eur_per_kwh\n2026-01-01T00:00:00Z,1,0,0.2\n"

    response = trainee_client.post(
        f"/scenarios/s/{main.pk}/",
        {"dataset_name": "uploaded", "files": [SimpleUploadedFile("profile.csv", csv)]},
    )
    shown = trainee_client.get(response["Location"]).content.decode()
    again = trainee_client.get(response["Location"]).content.decode()

    assert response.status_code == 302
    assert Dataset.objects.get(session=main, key="uploaded").owner == trainee_client.user
    assert "etl-result" in shown and "etl-result" not in again  # the result is shown once


def test_the_document_error_shape_names_the_reason(others_scenario):
    response = bearer_client("Trainee").delete(f"{API}/sessions/main/scenarios/{others_scenario.pk}")

    assert json.loads(response.content) == {
        "detail": "Only its owner or an administrator may do this to scenario 'theirs'."
    }
