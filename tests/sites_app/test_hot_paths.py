"""The hot endpoints cost about one database round trip each once the key is verified (the
credential is answered from the process's cache), and the per-key rate limit costs a round
trip to the shared cache only once per lease, never serving more than the limit across
processes."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from heatportal import ratelimit
from heatportal.ratelimit import LeasedRateLimit
from sites_app import services
from sites_app.api.outputs import format_time
from tests.sites_app.helpers import DOC_SITE_ID, doc_schedules

V1 = "/api/v1/public"


def queries_of(client, method: str, path: str, **kwargs) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(path, **kwargs)
    assert response.status_code in (200, 202), response.content
    return len(captured), [query["sql"] for query in captured]


@pytest.fixture
def busy_site(api, gateway, site):
    services.schedule_batch_apply(site=site, commands=doc_schedules(), sent_by="test")
    api.get(f"{V1}/sites")  # the key verified and cached, its last use recorded
    gateway.get("/api/v1/gateway/schedules")
    return site


def test_a_warm_site_list_costs_one_query(api, busy_site):
    api.get(f"{V1}/sites")
    count, sql = queries_of(api, "get", f"{V1}/sites")
    assert count == 1, sql


def test_a_warm_site_detail_costs_one_query(api, busy_site):
    api.get(f"{V1}/sites/{DOC_SITE_ID}")
    count, sql = queries_of(api, "get", f"{V1}/sites/{DOC_SITE_ID}")
    assert count == 1, sql


def test_a_changed_site_detail_is_read_again(api, gateway, busy_site):
    api.get(f"{V1}/sites/{DOC_SITE_ID}")
    gateway.post(
        "/api/v1/gateway/telemetry",
        {"reportedAt": format_time(timezone.now()), "assets": {"grid": {"activePowerkW": 42}}},
        format="json",
    )
    count, _sql = queries_of(api, "get", f"{V1}/sites/{DOC_SITE_ID}")
    assert count == 3  # site state, then its assets and entries
    assert api.get(f"{V1}/sites/{DOC_SITE_ID}").json()["assets"]["grid"]["activePowerkW"] == 42


def test_gateway_schedules_cost_one_query(gateway, busy_site):
    count, sql = queries_of(gateway, "get", "/api/v1/gateway/schedules")
    assert count == 1, sql


def test_telemetry_costs_three_statements_whatever_the_number_of_assets(gateway, busy_site):
    report = {
        "reportedAt": format_time(timezone.now()),
        "assets": {
            "grid": {"activePowerkW": 1},
            "solar": {"activePowerkW": 2},
            "bess": {"activePowerkW": 3, "soc": 50, "availableStorageCapacitykWh": 250},
            "load": {"activePowerkW": 4},
        },
    }
    _count, sql = queries_of(gateway, "post", "/api/v1/gateway/telemetry", data=report, format="json")
    writes = [s for s in sql if not s.startswith(("SAVEPOINT", "RELEASE"))]
    # the history row (issue 14), the site's conditional update, one update of the assets
    assert len(writes) == 3, sql


# --- The leased rate limit ---------------------------------------------------------------------


@pytest.fixture
def round_trips(monkeypatch):
    calls = []
    count = ratelimit._count_request

    def counted(key, **kwargs):
        calls.append(kwargs.get("amount", 1))
        return count(key, **kwargs)

    monkeypatch.setattr(ratelimit, "_count_request", counted)
    return calls


def test_one_process_pays_a_round_trip_per_lease_not_per_request(round_trips):
    limiter = LeasedRateLimit("test")

    served = sum(limiter.hit("key", limit=600, window=3600) is None for _ in range(300))

    assert served == 300
    assert len(round_trips) <= 300 / 20  # leases of up to 32 requests


@pytest.mark.parametrize("processes", [2, 5])
def test_several_processes_never_serve_more_than_the_limit(processes, round_trips):
    """Processes (each a limiter with its own leases) share the cache's counter; requests
    arrive at them in turn, far more than the limit."""
    limiters = [LeasedRateLimit("test") for _ in range(processes)]

    served = sum(limiters[n % processes].hit("key", limit=100, window=3600) is None for n in range(1000))

    assert served <= 100
    # Requests leased to a process and not spent are lost, at most a lease per other process.
    assert served >= 100 - 32 * (processes - 1)
    assert len(round_trips) < 1000 / 4  # a refusing process stops asking


def test_a_refused_request_says_when_the_window_ends():
    limiter = LeasedRateLimit("test")
    for _ in range(3):
        assert limiter.hit("key", limit=3, window=60) is None

    wait = limiter.hit("key", limit=3, window=60)

    assert wait is not None and 1 <= wait <= 60
    assert limiter.hit("other", limit=3, window=60) is None  # per identity


def test_the_lease_counter_lives_in_the_shared_cache():
    LeasedRateLimit("test").hit("key", limit=100, window=3600)
    window_start = int(timezone.now().timestamp() // 3600) * 3600
    assert cache.get(f"rl:test:key:{window_start}") == 12  # the first lease: an eighth of 100
