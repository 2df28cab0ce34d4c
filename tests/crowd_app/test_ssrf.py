"""The webhook SSRF guard (CONTRACT §5): hook URLs whose address is not globally routable are
refused when the request is created and again at delivery; ``WEBHOOK_ALLOW_PRIVATE`` lets
loopback through, nothing broader.

No test here sends a packet beyond loopback: host names are answered by a stand-in for DNS
(``socket.getaddrinfo``), and the delivery tests aim refused URLs at a receiver on 127.0.0.1,
so that a guard that let them through would be caught by the receiver.
"""

import socket
import time
import uuid

import pytest

from crowd_app import webhooks
from crowd_app.models import CrowdRequest, WebhookDelivery
from crowd_app.selectors import webhook_secret_get
from crowd_app.services import (
    answer_submit,
    cruncher_for_user,
    request_create,
    task_take_next,
)
from crowd_app.tasks import deliver_webhook
from tests.crowd_app.webhook_signatures import webhook_verified
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# (URL, is a loopback form). Loopback forms pass with WEBHOOK_ALLOW_PRIVATE, nothing else does.
REFUSED = [
    # private
    ("http://10.0.0.1/", False),
    ("http://172.16.0.1/", False),
    ("http://172.31.255.254/", False),
    ("http://192.168.1.1/", False),
    # loopback, in every spelling the resolver accepts
    ("http://127.0.0.1/", True),
    ("http://127.0.0.1:9/hook", True),
    ("http://127.255.255.254/", True),
    ("http://127.1/", True),
    ("http://localhost/", True),
    ("http://LOCALHOST:8000/x", True),
    ("http://[::1]/", True),
    ("http://[0:0:0:0:0:0:0:1]/", True),
    ("https://127.0.0.1:8443/", True),
    # numeric forms (decimal, hex, octal, mixed)
    ("http://2130706433/", True),
    ("http://0x7f000001/", True),
    ("http://0177.0.0.1/", True),
    ("http://017700000001/", True),
    ("http://0x7f.1/", True),
    ("http://167772161/", False),  # 10.0.0.1
    ("http://0x0a000001/", False),  # 10.0.0.1
    ("http://10.1/", False),  # 10.0.0.1
    ("http://0/", False),  # 0.0.0.0
    # IPv4-mapped IPv6
    ("http://[::ffff:127.0.0.1]/", True),
    ("http://[::ffff:7f00:1]/", True),
    ("http://[0:0:0:0:0:ffff:127.0.0.1]/", True),
    ("http://[::ffff:10.0.0.1]/", False),
    ("http://[::ffff:169.254.169.254]/", False),
    # link-local
    ("http://169.254.1.1/", False),
    ("http://[fe80::1]/", False),
    # CGNAT and cloud metadata
    ("http://100.64.0.1/", False),
    ("http://100.127.255.254/", False),
    ("http://100.100.100.200/", False),  # Alibaba Cloud
    ("http://169.254.169.254/latest/meta-data/", False),  # AWS, GCP, Azure
    ("http://[fd00:ec2::254]/", False),  # AWS over IPv6
    # IETF protocol assignments, reserved, unspecified, multicast, broadcast
    ("http://192.0.0.8/", False),
    ("http://192.0.0.170/", False),
    ("http://240.0.0.1/", False),
    ("http://0.0.0.0/", False),
    ("http://[::]/", False),
    ("http://224.0.0.1/", False),
    ("http://239.255.255.250/", False),
    ("http://[ff02::1]/", False),
    ("http://255.255.255.255/", False),
    # benchmarking, documentation, 6to4 relay
    ("http://198.18.0.1/", False),
    ("http://192.0.2.1/", False),
    ("http://198.51.100.7/", False),
    ("http://203.0.113.9/", False),
    ("http://[2001:db8::1]/", False),
    ("http://192.88.99.1/", False),
    # unique local, site-local, discard, Teredo, IPv4-compatible
    ("http://[fc00::1]/", False),
    ("http://[fd12:3456:789a::1]/", False),
    ("http://[fec0::1]/", False),
    ("http://[100::1]/", False),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", False),
    ("http://[::7f00:1]/", False),
    # 6to4 and NAT64 addresses that embed a non-global IPv4 address
    ("http://[2002:7f00:1::]/", False),
    ("http://[2002:a9fe:a9fe::]/", False),
    ("http://[64:ff9b::7f00:1]/", False),
    ("http://[64:ff9b::a9fe:a9fe]/", False),
    ("http://[64:ff9b:1::a00:1]/", False),
]
LOOPBACK = [url for url, loopback in REFUSED if loopback]

ACCEPTED = [
    "http://93.184.215.14/hook",
    "https://1.1.1.1:8443/in?x=1",
    "http://[2606:4700:4700::1111]/",
    "http://[2002:808:808::1]/",  # 6to4 of 8.8.8.8
    "http://[64:ff9b::808:808]/",  # NAT64 of 8.8.8.8
    "http://[::ffff:8.8.8.8]/",
]


def test_there_are_at_least_31_refused_variants():
    assert len({url for url, _ in REFUSED}) == len(REFUSED) >= 31


def create(api, hook_url):
    return api.post("/v1/requests/free-text", {"instruction": "x", "hook_url": hook_url})


def assert_refused(response, url):
    assert response.status_code == 400, (url, response.content)
    body = response.json()
    assert body["status"] == "error" and body["code"] == 400
    assert body["message"].startswith("hook_url: "), body


@pytest.mark.parametrize(("url", "loopback"), REFUSED)
def test_refused_at_creation(live_api, settings, url, loopback):
    settings.WEBHOOK_ALLOW_PRIVATE = False

    assert_refused(create(live_api, url), url)
    assert not CrowdRequest.objects.exists()


@pytest.mark.parametrize(("url", "loopback"), REFUSED)
def test_allow_private_lets_only_loopback_through(live_api, settings, url, loopback):
    settings.WEBHOOK_ALLOW_PRIVATE = True

    response = create(live_api, url)

    if loopback:
        assert response.status_code == 200, response.content
        assert response.json()["hook_url"] == url
    else:
        assert_refused(response, url)


@pytest.mark.parametrize("url", ACCEPTED)
def test_global_addresses_are_accepted(live_api, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False

    response = create(live_api, url)

    assert response.status_code == 200, response.content
    assert response.json()["hook_url"] == url


def test_the_refusal_names_the_address_and_its_range(live_api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False

    message = create(live_api, "http://0x7f000001/").json()["message"]

    assert message == "hook_url: 0x7f000001 (127.0.0.1) is not a globally routable address: loopback"


def test_an_invalid_port_is_a_400_not_a_crash(live_api, settings):
    assert_refused(create(live_api, "http://93.184.215.14:99999/"), "port")


# --- Host names: resolved at creation too --------------------------------------------------------


@pytest.fixture
def dns(monkeypatch):
    """A stand-in for DNS: ``answers[name]`` is a list of addresses, or a list of such lists
    given out in turn (a rebinding server); names it does not know do not resolve. Numeric
    hosts go to the real resolver (which answers them without any query)."""
    real_getaddrinfo = socket.getaddrinfo
    answers: dict[str, list] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        try:
            return real_getaddrinfo(host, port, *args, flags=socket.AI_NUMERICHOST)
        except socket.gaierror:
            pass
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answer = answers[host]
        if answer and isinstance(answer[0], list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answer
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.1.2.3"],
        ["169.254.169.254"],
        ["100.100.100.200"],
        ["fd00:ec2::254"],
        ["93.184.215.14", "127.0.0.1"],
    ],
)
def test_a_name_resolving_to_any_non_global_address_is_refused_at_creation(
    live_api, settings, dns, addresses
):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    dns["hooks.example.test"] = addresses

    assert_refused(create(live_api, "https://hooks.example.test/in"), addresses)


def test_a_name_resolving_to_global_addresses_is_accepted(live_api, settings, dns):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    dns["hooks.example.test"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]

    assert create(live_api, "https://hooks.example.test/in").status_code == 200


def test_a_name_that_does_not_resolve_is_refused_at_creation(live_api, settings, dns):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # not an address question: it could never be delivered

    response = create(live_api, "https://no-such-host.example.test/in")

    assert_refused(response, "unresolvable")
    assert "cannot resolve 'no-such-host.example.test'" in response.json()["message"]


# --- At delivery -----------------------------------------------------------------------------


def complete(crowd_request, *, hook_url: str, queue_delivery: bool = False):
    """Have a person answer a live request, then give it ``hook_url``: written past the creation
    check, as for a row stored before the guard changed. Unless ``queue_delivery``, the request
    has no hook URL while it completes, so that no delivery is queued for a worker to make."""
    CrowdRequest.objects.filter(pk=crowd_request.pk).update(hook_url=hook_url if queue_delivery else "")
    crowd_request.refresh_from_db()
    cruncher = cruncher_for_user(user=UserFactory())
    task_take_next(cruncher=cruncher)
    answer_submit(crowd_request=crowd_request, cruncher=cruncher, response="done")
    CrowdRequest.objects.filter(pk=crowd_request.pk).update(hook_url=hook_url)
    return crowd_request


def completed_request(account, hook_url, *, queue_delivery: bool = False):
    from crowd_app.services import crowd_api_key_create

    api_key = crowd_api_key_create(account=account)[0]
    crowd_request = request_create(api_key=api_key, request_type="free-text", body={"instruction": "x"})
    return complete(crowd_request, hook_url=hook_url, queue_delivery=queue_delivery)


def deliver_now(crowd_request) -> WebhookDelivery:
    message_id = f"msg_{uuid.uuid4().hex}"
    deliver_webhook.run(str(crowd_request.pk), message_id, 1)
    return WebhookDelivery.objects.get(message_id=message_id)


LOOPBACK_AT_RECEIVER = [
    "http://127.0.0.1:{port}/hook",
    "http://127.1:{port}/hook",
    "http://2130706433:{port}/hook",
    "http://0x7f000001:{port}/hook",
    "http://0177.0.0.1:{port}/hook",
    "http://[::ffff:127.0.0.1]:{port}/hook",
    "http://[::ffff:7f00:1]:{port}/hook",
    "http://localhost:{port}/hook",
]


def receiver_port(receiver) -> int:
    return int(receiver.url.split(":")[2].split("/")[0])


@pytest.mark.parametrize("template", LOOPBACK_AT_RECEIVER)
def test_delivery_to_a_refused_address_is_not_attempted_and_fails(account, settings, receiver, template):
    url = template.format(port=receiver_port(receiver))
    crowd_request = completed_request(account, url)
    settings.WEBHOOK_ALLOW_PRIVATE = False

    delivery = deliver_now(crowd_request)

    assert (delivery.outcome, delivery.status_code, delivery.attempt) == ("failed", None, 1)
    assert delivery.error.startswith("hook_url: ") and "loopback" in delivery.error
    assert CrowdRequest.objects.get(pk=crowd_request.pk).webhook_state == "failed"
    assert receiver.received == []


@pytest.mark.parametrize("template", LOOPBACK_AT_RECEIVER)
def test_allow_private_delivers_to_loopback(account, settings, receiver, template):
    """The counterpart of the test above: the same URLs do reach the receiver when loopback is
    allowed, so it is the guard that stops them there."""
    url = template.format(port=receiver_port(receiver))
    crowd_request = completed_request(account, url)
    settings.WEBHOOK_ALLOW_PRIVATE = True

    delivery = deliver_now(crowd_request)

    assert (delivery.outcome, delivery.status_code) == ("succeeded", 200)
    assert len(receiver.received) == 1
    [(headers, body, _at)] = receiver.received
    assert webhook_verified(webhook_secret_get(account=account), headers, body)


def test_allow_private_does_not_let_the_unspecified_address_through(account, settings, receiver):
    """0.0.0.0 reaches the local host on Linux, but it is not a loopback address."""
    crowd_request = completed_request(account, f"http://0.0.0.0:{receiver_port(receiver)}/hook")
    settings.WEBHOOK_ALLOW_PRIVATE = True

    delivery = deliver_now(crowd_request)

    assert delivery.outcome == "failed" and "unspecified" in delivery.error
    assert receiver.received == []


def test_a_name_rebound_to_loopback_after_creation_is_refused_at_delivery(account, settings, receiver, dns):
    from crowd_app.services import crowd_api_key_create

    settings.WEBHOOK_ALLOW_PRIVATE = False
    dns["hooks.example.test"] = [["93.184.215.14"], ["127.0.0.1"]]
    api_key = crowd_api_key_create(account=account)[0]
    url = f"http://hooks.example.test:{receiver_port(receiver)}/hook"
    crowd_request = request_create(
        api_key=api_key, request_type="free-text", body={"instruction": "x", "hook_url": url}
    )
    complete(crowd_request, hook_url=url)

    delivery = deliver_now(crowd_request)

    assert delivery.outcome == "failed"
    assert "hooks.example.test (127.0.0.1) is not a globally routable address" in delivery.error
    assert receiver.received == []


@pytest.mark.worker
def test_a_real_worker_refuses_the_delivery_and_records_it(celery_worker, account, receiver):
    """The worker process runs with WEBHOOK_ALLOW_PRIVATE (the suite's receivers are on
    loopback); 0.0.0.0 is still refused, and would reach the receiver if it were not."""
    url = f"http://0.0.0.0:{receiver_port(receiver)}/hook"
    crowd_request = completed_request(account, url, queue_delivery=True)

    deadline = time.monotonic() + 20
    while CrowdRequest.objects.get(pk=crowd_request.pk).webhook_state == "pending":
        assert time.monotonic() < deadline, "the delivery did not finish"
        time.sleep(0.1)

    [delivery] = WebhookDelivery.objects.filter(request=crowd_request)
    assert (delivery.outcome, delivery.attempt, delivery.url) == ("failed", 1, url)
    assert "not a globally routable address: unspecified" in delivery.error
    assert CrowdRequest.objects.get(pk=crowd_request.pk).webhook_state == "failed"
    assert receiver.received == []


def test_address_refusal_reads_embedded_addresses():
    import ipaddress

    refusal = webhooks.address_refusal
    assert refusal(ipaddress.ip_address("2002:7f00:1::")) == "6to4 address of 127.0.0.1, which is loopback"
    assert refusal(ipaddress.ip_address("64:ff9b::a9fe:a9fe")).startswith("NAT64 address of 169.254.169.254")
    assert refusal(ipaddress.ip_address("2002:7f00:1::"), allow_loopback=True) is not None
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allow_loopback=True) is None
    assert refusal(ipaddress.ip_address("8.8.8.8")) is None
