"""Live health of the database, the broker and the Celery workers."""

import pytest

from heatportal.celery import app as celery_app
from heatportal.health import broker_health, database_health, workers_health
from tests.factories import UserFactory


@pytest.mark.django_db
def test_database_answers():
    check = database_health()

    assert check.ok
    assert check.latency_ms is not None


def test_broker_answers():
    assert broker_health().ok


def test_an_unreachable_broker_is_down():
    configured = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        check = broker_health()
    finally:
        celery_app.conf.broker_url = configured

    assert not check.ok
    assert "Error" in check.detail


@pytest.mark.worker
def test_a_running_worker_is_up_and_a_stopped_one_is_down(celery_workers, transactional_db):
    hostname = celery_workers.start()
    assert hostname in workers_health().names

    celery_workers.stop(hostname)

    assert hostname not in workers_health().names


@pytest.mark.worker
def test_health_endpoint_is_503_while_no_worker_runs(client, celery_workers, transactional_db):
    celery_workers.stop_all()

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["workers"] == {
        "ok": False,
        "detail": "no worker answered",
        "latency_ms": response.json()["workers"]["latency_ms"],
        "names": [],
    }


@pytest.mark.worker
def test_health_endpoint_is_200_with_a_worker_and_shows_names_to_users_only(client, celery_worker):
    anonymous = client.get("/health/").json()
    client.force_login(UserFactory())
    signed_in = client.get("/health/").json()

    assert anonymous["status"] == "ok"
    assert anonymous["workers"]["names"] == []
    assert celery_worker in signed_in["workers"]["names"]
