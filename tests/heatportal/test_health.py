"""Live health of the database, the broker and the Celery workers."""

import pytest

from heatportal.celery import app as celery_app
from heatportal.health import broker_health, database_health, workers_health
from tests.factories import UserFactory
from tests.heatportal.test_broker import options as broker_options


@pytest.mark.django_db
def test_database_answers():
    check = database_health()

    assert check.ok
    assert check.latency_ms is not None


def test_broker_answers():
    assert broker_health().ok


def test_an_unreachable_broker_is_down():
    conf = celery_app.conf
    configured = conf.broker_url, conf.broker_transport
    # nothing listens on port 1; the embedded broker's transport setting would win over the URL
    conf.broker_url, conf.broker_transport = "redis://127.0.0.1:1/0", None
    try:
        check = broker_health()
    finally:
        conf.broker_url, conf.broker_transport = configured

    assert not check.ok
    assert "Error" in check.detail


def test_the_embedded_broker_reports_the_messages_it_set_aside(tmp_path):
    conf = celery_app.conf
    configured = conf.broker_url, conf.broker_transport, conf.broker_transport_options
    conf.broker_url, conf.broker_transport = "filesystem://localhost//", "heatportal.broker:Transport"
    conf.broker_transport_options = broker_options(tmp_path)
    (tmp_path / "bad" / "0_empty.celery.msg").write_bytes(b"")
    try:
        check = broker_health()
    finally:
        conf.broker_url, conf.broker_transport, conf.broker_transport_options = configured

    assert check.ok
    assert check.bad_messages == 1
    assert check.detail.endswith("; 1 undecodable message set aside")


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
