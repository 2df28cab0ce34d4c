"""Blocking calls on the real ASGI server: many waiters share one wake-up source, and a client
that goes away stops waiting."""

import asyncio
import socket
import threading
import time

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from crowd_app import notify
from crowd_app.demo import SAMPLE_TEST_KEY, seed_crowd
from crowd_app.models import CrowdApiKey
from crowd_app.services import crowd_api_key_create, request_abort, request_create
from tests.factories import UserFactory
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def waiting() -> int:
    return sum(len(futures) for hub in list(notify._hubs.values()) for futures in list(hub.waiters.values()))


@pytest.fixture
def live(account):
    api_key, value = crowd_api_key_create(account=account)
    return api_key, value


def test_a_disconnected_client_stops_waiting(live_url, live):
    api_key, value = live
    crowd_request = request_create(api_key=api_key, request_type="free-text", body={"instruction": "x"})
    host, port = live_url.removeprefix("http://").split(":")
    client = socket.create_connection((host, int(port)))
    client.sendall(
        f"GET /v1/requests/{crowd_request.pk}?block=30 HTTP/1.1\r\nHost: {host}\r\n"
        f"X-Heat-API-Key: {value}\r\n\r\n".encode()
    )
    wait_for(lambda: waiting() == 1)

    client.close()

    wait_for(lambda: waiting() == 0, timeout=5)


def abort_and_close(crowd_request):
    """Abort from another thread, as a worker would, and give its connection back."""
    try:
        request_abort(crowd_request=crowd_request)
    finally:
        connection.close()


def test_many_blocked_clients_wake_together(live_url, live):
    api_key, value = live
    crowd_request = request_create(api_key=api_key, request_type="free-text", body={"instruction": "x"})
    url = f"{live_url}/v1/requests/{crowd_request.pk}?block=30"

    threads_before = threading.active_count()

    async def block_all():
        async with httpx.AsyncClient(timeout=40, limits=httpx.Limits(max_connections=200)) as client:
            calls = [
                asyncio.create_task(client.get(url, headers={"X-Heat-API-Key": value})) for _ in range(100)
            ]
            while waiting() < 100:
                await asyncio.sleep(0.02)
            hubs = [hub for hub in notify._hubs.values() if hub.waiters]
            assert len(hubs) == 1 and hubs[0].task is not None  # one poller / subscription for all
            await asyncio.sleep(0.5)
            assert threading.active_count() < threads_before + 20  # not a thread per waiter
            started = time.monotonic()
            await asyncio.to_thread(abort_and_close, crowd_request)
            replies = await asyncio.gather(*calls)
            return replies, time.monotonic() - started

    replies, elapsed = asyncio.run(block_all())

    assert {reply.json()["status"] for reply in replies} == {"aborted"}
    # Woken by the abort, not by the 30 s deadline (the margin is for a loaded CI machine).
    assert elapsed < 15
    wait_for(lambda: waiting() == 0)


def test_create_crowd_api_key_command(account, capsys):
    call_command("create_crowd_api_key", account.owner.username, "--test")
    value = capsys.readouterr().out.strip()

    assert value.startswith("test_") and len(value) == 37
    assert CrowdApiKey.objects.get(lookup_id=value[5:17]).account == account


def test_create_crowd_api_key_refuses_another_users_account_name(account):
    other = UserFactory()

    with pytest.raises(CommandError, match="exists already"):
        call_command("create_crowd_api_key", other.username, "--account", account.name)


def test_seed_demo_installs_the_documents_sample_key(admin_user):
    assert any("sample crowd test key" in line for line in seed_crowd())
    assert seed_crowd() == []  # safe to run again
    key = CrowdApiKey.objects.get(lookup_id=SAMPLE_TEST_KEY[5:17])
    assert key.is_test
