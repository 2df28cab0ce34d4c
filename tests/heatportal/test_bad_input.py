"""Every bad input gets a 4xx in its family's error shape, never a 500 (issue 10).

Each JSON endpoint of each family gets each class of bad body; each family gets NUL in its
path, query and headers. Run on PostgreSQL too (DATABASE_URL): some of these (NUL, integers
beyond a column) only ever failed there.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from crowd_app.demo import SAMPLE_TEST_KEY
from crowd_app.services import crowd_account_create, crowd_api_key_create
from heatportal.accounts.models import AccessToken
from heatportal.credentials import credential_issue
from scenarios_app import services as runner_services
from scenarios_app.datasets import dataset_to_json
from scenarios_app.models import Dataset
from sessions_app.models import Session
from sessions_app.services import session_create
from sites_app import services as sites_services
from sites_app.models import SiteApiKey, TelemetryReport
from tests.factories import AccessGroupFactory, UserFactory, documents_session_template
from tests.heatportal.factories import RunnerSessionFactory
from tests.sessions_app.factories import ConfigFactory, ProjectFactory
from tests.sites_app.helpers import doc_schedules


def heat_shape(body: dict, status: int) -> bool:
    return body.get("status") == "error" and isinstance(body.get("message"), str)


def sites_shape(body: dict, status: int) -> bool:
    return isinstance(body.get("error"), str) and isinstance(body.get("message"), str)


def scenarios_shape(body: dict, status: int) -> bool:
    detail = body.get("detail")
    if status == 422:
        return isinstance(detail, list) and all({"type", "loc", "msg"} <= set(item) for item in detail)
    return isinstance(detail, str)


def crowd_shape(body: dict, status: int) -> bool:
    return (
        body.get("status") == "error" and body.get("code") == status and isinstance(body.get("message"), str)
    )


SHAPES = {"heat": heat_shape, "sites": sites_shape, "scenarios": scenarios_shape, "crowd": crowd_shape}


@dataclass
class World:
    """One of everything the endpoints need, and a client per credential."""

    heat: Client
    sites: Client
    gateway: Client
    crowd: Client
    ids: dict[str, Any] = field(default_factory=dict)
    bodies: dict[str, Any] = field(default_factory=dict)

    def client(self, family: str, path: str) -> Client:
        if path.startswith("/api/v1/gateway/"):
            return self.gateway
        return {"heat": self.heat, "scenarios": self.heat, "sites": self.sites, "crowd": self.crowd}[family]


def _client(**headers: str) -> Client:
    return Client(headers=headers)


def build_world() -> World:
    admin = UserFactory(role="Admin")
    _token, bearer = credential_issue(AccessToken, user=admin)
    template = documents_session_template()
    project = ProjectFactory(title="P", owner=admin, default_session_template=template)
    session = session_create(user=admin, project=project, session_template=None, name="S", email="")
    ConfigFactory(name="public_api_v1:Thing", value_type=0, value="v")
    group = AccessGroupFactory(name="Utility")
    site, device_token = sites_services.site_create(access_group=group, name="Site")
    _key, site_key = credential_issue(SiteApiKey, access_group=group, name="k")
    batch = sites_services.schedule_batch_apply(site=site, commands=doc_schedules(), sent_by="k")
    TelemetryReport.objects.bulk_create(  # two hours of history for the runner's from-site
        TelemetryReport(
            site=site, reported_at=HISTORY_START + timedelta(minutes=minute), load_kw=5.0, solar_kw=1.0
        )
        for minute in range(120)
    )
    runner_services.session_ensure_default()
    RunnerSessionFactory(display_name="other")
    dataset = Dataset.objects.get(session__display_name="main", key="Master data")
    scenario = runner_services.scenario_create(
        session=dataset.session, tag="to-apply", dataset_key="Master data", algo_name="Slow"
    )
    account = crowd_account_create(owner=UserFactory(), name="acme")
    crowd_api_key_create(account=account, test=True, value=SAMPLE_TEST_KEY)
    return World(
        heat=_client(Authorization=f"Bearer {bearer}"),
        sites=_client(Authorization=f"Bearer {site_key}"),
        gateway=_client(Authorization=f"Bearer {device_token}"),
        crowd=_client(**{"X-Heat-API-Key": SAMPLE_TEST_KEY}),
        ids={
            "project": project.pk,
            "session": session.pk,
            "template": template.pk,
            "site": site.pk,
            "batch": batch.pk,
            "scenario": scenario.pk,
        },
        bodies={"dataset": {**dataset_to_json(dataset), "key": "copy"}},
    )


@pytest.fixture
def world() -> World:
    return build_world()


def with_database(family: str, *values: Any, name: str | None = None):
    """A parameter with the database its family needs: the crowd views are async and reach the
    database from other threads, so their tests commit."""
    mark = pytest.mark.django_db(transaction=family == "crowd")
    return pytest.param(*values, marks=mark, id=name)


@dataclass(frozen=True)
class Endpoint:
    name: str
    family: str
    method: str
    path: str
    body: Any  # a dict, or a callable taking the World
    text: tuple[str | int, ...]  # where a string field of the body is
    integer: tuple[str | int, ...] | None = None  # where an integer field with a 32-bit column is
    status: int = 400  # what a body refused by the parser answers
    ok: tuple[int, ...] = (200, 201, 202)  # what the valid body answers
    dates: tuple[tuple[str | int, ...], ...] = ()  # where date-time fields are

    def url(self, world: World) -> str:
        return self.path.format(**world.ids)

    def make_body(self, world: World) -> dict:
        body = self.body(world) if callable(self.body) else self.body
        return copy.deepcopy(body)


HISTORY_START = datetime(2026, 6, 1, tzinfo=UTC)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


SCENARIO = {"tag": "t", "dataset_key": "Master data", "algo_name": "Slow", "algo_params": {"duration": 1}}
SHARED = {
    "name": "n",
    "simulationName": "sim",
    "email": "a@example.org",
    "sessionTemplateId": None,
    "startTimeUtc": "2030-01-01T00:00:00Z",
    "machineGroup": 1,
}

ENDPOINTS = [
    # HEAT Auth and v2
    Endpoint(
        "auth-login",
        "heat",
        "post",
        "/auth/login",
        {"username": "u", "password": "p"},
        ("username",),
        ok=(401,),
    ),
    Endpoint(
        "auth-refresh", "heat", "post", "/auth/refresh", {"refreshToken": "r"}, ("refreshToken",), ok=(401,)
    ),
    Endpoint("v2-projects", "heat", "post", "/api/v2/projects", {"title": "t"}, ("title",), ("ownerId",)),
    Endpoint("v2-project", "heat", "put", "/api/v2/projects/{project}", {"title": "t"}, ("title",)),
    Endpoint(
        "v2-sessions",
        "heat",
        "post",
        "/api/v2/sessions",
        lambda w: {"projectId": w.ids["project"], "name": "n"},
        ("name",),
        ("projectId",),
    ),
    Endpoint(
        "v2-session",
        "heat",
        "post",
        "/api/v2/session",
        lambda w: {"projectId": w.ids["project"], "name": "n"},
        ("name",),
        ("projectId",),
    ),
    Endpoint(
        "v2-project-sessions", "heat", "post", "/api/v2/projects/{project}/sessions", {"name": "n"}, ("name",)
    ),
    Endpoint(
        "v2-shared-session",
        "heat",
        "post",
        "/api/v2/projects/{project}/sessions/shared",
        lambda w: {**SHARED, "sessionTemplateId": w.ids["template"]},
        ("simulationName",),
        ("machineGroup",),
        dates=(("startTimeUtc",),),
    ),
    Endpoint("v2-session-patch", "heat", "patch", "/api/v2/sessions/{session}", {"name": "n"}, ("name",)),
    Endpoint(
        "v2-session-close",
        "heat",
        "post",
        "/api/v2/sessions/{session}/close",
        {"reason": "r"},
        ("reason",),
        dates=(("closeAt",),),
    ),
    Endpoint(
        "v2-scenario-instances",
        "heat",
        "post",
        "/api/v2/{session}/scenario_instances",
        {"scenarioName": "s", "simulationId": "x"},
        ("simulationId",),
        dates=(("from",), ("to",)),
    ),
    Endpoint(
        "v2-config",
        "heat",
        "post",
        "/api/v2/config",
        {"name": "a:b", "valueType": 2, "value": "1"},
        ("name",),
        ("valueType",),
    ),
    Endpoint(
        "v2-config-put",
        "heat",
        "put",
        "/api/v2/config/public_api_v1:Thing",
        {"name": "public_api_v1:Thing", "valueType": 0, "value": "v"},
        ("name",),
        ("valueType",),
    ),
    # Energy sites
    Endpoint(
        "sites-schedules",
        "sites",
        "post",
        "/api/v1/public/sites/{site}/schedules",
        lambda w: {"schedules": doc_schedules()},
        ("schedules", 0, "asset"),
        ("schedules", 0, "entries", 0, "value"),
        dates=(("schedules", 0, "entries", 0, "startAt"), ("schedules", 1, "entries", 0, "endAt")),
    ),
    Endpoint(
        "sites-schedules-v0",
        "sites",
        "post",
        "/api/v0/public/sites/{site}/schedules",
        lambda w: {"schedules": doc_schedules()},
        ("schedules", 0, "type"),
    ),
    Endpoint(
        "gateway-telemetry",
        "sites",
        "post",
        "/api/v1/gateway/telemetry",
        lambda w: {"reportedAt": _now(), "assets": {"grid": {"activePowerkW": 1}}},
        ("reportedAt",),
        dates=(("reportedAt",),),
    ),
    Endpoint(
        "gateway-telemetry-batch",
        "sites",
        "post",
        "/api/v1/gateway/telemetry",
        lambda w: {"reports": [{"reportedAt": _now(), "assets": {"grid": {"activePowerkW": 1}}}]},
        ("reports", 0, "reportedAt"),
        dates=(("reports", 0, "reportedAt"),),
    ),
    Endpoint(
        "gateway-schedules-ack",
        "sites",
        "post",
        "/api/v1/gateway/schedules/ack",
        lambda w: {"batchId": str(w.ids["batch"]), "appliedAt": _now()},
        ("batchId",),
        dates=(("appliedAt",),),
    ),
    # Scenario runner
    Endpoint(
        "runner-sessions",
        "scenarios",
        "post",
        "/api/v1/sessions",
        {"display_name": "d"},
        ("display_name",),
        status=422,
    ),
    Endpoint(
        "runner-copy",
        "scenarios",
        "post",
        "/api/v1/sessions/main/copy",
        {"new_display_name": "c"},
        ("new_display_name",),
        status=422,
    ),
    Endpoint(
        "runner-rename",
        "scenarios",
        "patch",
        "/api/v1/sessions/other",
        {"display_name": "r"},
        ("display_name",),
        status=422,
    ),
    Endpoint(
        "runner-scenarios",
        "scenarios",
        "post",
        "/api/v1/sessions/main/scenarios",
        SCENARIO,
        ("tag",),
        ("algo_params", "duration"),
        status=422,
    ),
    Endpoint(
        "runner-derive",
        "scenarios",
        "post",
        "/api/v1/sessions/main/data/Master%20data/derive",
        {"new_key": "k"},
        ("new_key",),
        status=422,
    ),
    Endpoint(
        "runner-from-json",
        "scenarios",
        "post",
        "/api/v1/sessions/main/data/from-json",
        lambda w: w.bodies["dataset"],
        ("key",),
    ),
    Endpoint(
        "runner-from-site",
        "scenarios",
        "post",
        "/api/v1/sessions/main/data/from-site",
        lambda w: {
            "new_key": "from site",
            "siteId": str(w.ids["site"]),
            "from": HISTORY_START.isoformat(),
            "to": (HISTORY_START + timedelta(hours=2)).isoformat(),
        },
        ("new_key",),
        status=422,
        dates=(("from",), ("to",)),
    ),
    Endpoint(
        "runner-apply",
        "scenarios",
        "post",
        "/api/v1/sessions/main/scenarios/{scenario}/apply",
        lambda w: {"siteId": str(w.ids["site"]), "startAt": _now()},
        ("siteId",),
        status=422,
        # The scenario has not run: a body the parser accepts reaches the service, whose answer
        # is 409 (not complete); what the apply does with a dispatch: tests/scenarios_app.
        ok=(409,),
        dates=(("startAt",),),
    ),
    # Crowd requests
    Endpoint(
        "crowd-free-text", "crowd", "post", "/v1/requests/free-text", {"instruction": "i"}, ("instruction",)
    ),
    Endpoint(
        "crowd-multiple-choice",
        "crowd",
        "post",
        "/v1/requests/multiple-choice",
        {"instruction": "i", "choices": ["a", "b"]},
        ("choices", 0),
        ("min_answers",),
    ),
    Endpoint(
        "crowd-annotations",
        "crowd",
        "post",
        "/v1/requests/annotations-with-rating",
        {"instruction": "i", "attachments": ["a"], "per_annotation": {"instruction": "p"}},
        ("per_annotation", "instruction"),
        ("confidence", "max_crunchers"),
    ),
]

NUMBER = "__number__"


def _put(body: Any, where: tuple, value: Any) -> Any:
    target = body
    for part in where[:-1]:
        target = target.setdefault(part, {}) if isinstance(target, dict) else target[part]
    target[where[-1]] = value
    return body


def _raw(body: Any, number: str | None = None) -> str:
    text = json.dumps(body)  # lone surrogates are written as \ud800 escapes, NaN as NaN
    return text.replace(json.dumps(NUMBER), number) if number else text


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


# Each class of bad body: (name, how to make the raw body from the endpoint's valid one).
BAD_BODIES = {
    "deep-3000": lambda e, b: "[" * 3000,
    "deep-inside": lambda e, b: _raw(_put(b, e.text, _nested(100))),
    "nul-value": lambda e, b: _raw(_put(b, e.text, "a\x00b")),
    "nul-key": lambda e, b: _raw({**b, "extra\x00": 1}),
    "surrogate-value": lambda e, b: _raw(_put(b, e.text, "\ud800")),
    "surrogate-key": lambda e, b: _raw({**b, "\udc00": 1}),
    "int-beyond-64-bits": lambda e, b: _raw(_put(b, e.integer or e.text, 2**64)),
    "nan": lambda e, b: _raw(_put(b, e.integer or e.text, NUMBER), "NaN"),
    "infinity": lambda e, b: _raw(_put(b, e.integer or e.text, NUMBER), "-Infinity"),
    "1e400": lambda e, b: _raw(_put(b, e.integer or e.text, NUMBER), "1e400"),
}


def send(world: World, endpoint: Endpoint, raw: str, **extra):
    client = world.client(endpoint.family, endpoint.path)
    return getattr(client, endpoint.method)(
        endpoint.url(world),
        data=raw.encode("utf-8", "surrogatepass"),
        content_type="application/json",
        **extra,
    )


def assert_refused(response, family: str, status: int | None = None):
    assert response.status_code < 500, response.content[:500]
    assert 400 <= response.status_code < 500, response.content[:500]
    if status is not None:
        assert response.status_code == status, response.content[:500]
    body = response.json()
    assert SHAPES[family](body, response.status_code), body


ALL_ENDPOINTS = [with_database(e.family, e, name=e.name) for e in ENDPOINTS]


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS)
def test_the_valid_body_is_accepted(world, endpoint):
    """The baseline: without the bad value, each request succeeds (so a 4xx below is the bad
    value's doing); the auth endpoints answer 401 to made-up credentials."""
    response = send(world, endpoint, _raw(endpoint.make_body(world)))
    assert response.status_code in endpoint.ok, response.content[:500]


ANY = 0  # a value that may be valid (a date-time at the end of the calendar): 2xx or 4xx, no 5xx


def bad_bodies(endpoint: Endpoint, world: World) -> dict[str, tuple[str, int | None]]:
    """Every bad body for ``endpoint``: ``{name: (raw body, the status it must get; None for
    any 4xx, ANY for anything but a 5xx)}``."""
    cases = {
        name: (make(endpoint, endpoint.make_body(world)), endpoint.status)
        for name, make in BAD_BODIES.items()
    }
    cases["string-too-long"] = (_raw(_put(endpoint.make_body(world), endpoint.text, "x" * 100_000)), None)
    if endpoint.integer:
        for value in (2**31, -(2**31) - 1, 2**63 - 1):
            cases[f"integer-{value}"] = (_raw(_put(endpoint.make_body(world), endpoint.integer, value)), None)
    for where in endpoint.dates:
        edges = (
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-14:00",
        )
        for value in (*edges, "2030-02-30T00:00:00Z"):
            cases[f"date-{value}-in-{where}"] = (_raw(_put(endpoint.make_body(world), where, value)), ANY)
    return cases


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS)
def test_bad_bodies_are_refused_in_the_family_shape(world, endpoint):
    """Each class of bad body (in a field of the endpoint's valid body, or the whole body) gets
    a 4xx in the family's shape: the parser's own refusals exactly 400 (422 for the runner's
    validated bodies, as FastAPI answers), the others any 4xx (a 404 for an id that does not
    exist is fine)."""
    failures = {}
    for name, (raw, status) in bad_bodies(endpoint, world).items():
        response = send(world, endpoint, raw)
        if status == ANY and response.status_code < 400:
            continue
        try:
            assert_refused(response, endpoint.family, status or None)
        except (AssertionError, ValueError) as error:
            failures[name] = (response.status_code, str(error)[:300])
    assert not failures, failures


# --- The inputs of the outside run, one by one ------------------------------------------------


@pytest.mark.django_db
def test_machine_group_beyond_32_bits_names_the_field():
    world = build_world()
    endpoint = next(e for e in ENDPOINTS if e.name == "v2-shared-session")
    body = {**endpoint.make_body(world), "machineGroup": 2147483648}
    response = send(world, endpoint, _raw(body))
    assert response.status_code == 400
    assert response.json()["status"] == "error"
    assert response.json()["errors"] == [
        {"field": "machine_group", "message": "Ensure this value is less than or equal to 2147483647."}
    ]
    assert not Session.objects.filter(is_shared=True).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value_type", "value"), [(3, "1e400"), (3, "nan"), (3, "-inf"), (4, "NaN"), (4, "[1e999]")]
)
def test_non_finite_configuration_values_are_refused(value_type, value):
    world = build_world()
    response = world.heat.post(
        "/api/v2/config",
        {"name": "a:b", "valueType": value_type, "value": value},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["status"] == "error"
    assert world.heat.get("/api/v2/config/all").status_code == 200


@pytest.mark.django_db
def test_a_stored_value_that_does_not_parse_never_breaks_reading_the_others():
    world = build_world()
    ConfigFactory(name="public_api_v1:Broken", value_type=3, value="nan")
    ConfigFactory(name="public_api_v1:Fine", value_type=3, value="1.5")
    everything = world.heat.get("/api/v2/config/all")
    assert everything.status_code == 200
    assert everything.json()["public_api_v1"]["Broken"] == "nan"  # the stored text
    assert everything.json()["public_api_v1"]["Fine"] == 1.5
    by_prefix = world.heat.get("/api/v2/config", {"prefix": "public_api_v1"})
    assert by_prefix.status_code == 200
    assert by_prefix.json()["public_api_v1:Fine"] == 1.5


# --- URLs and headers ---------------------------------------------------------------------------

URLS = [
    with_database(case[0], *case)
    for case in [
        ("heat", "get", "/api/v2/config?prefix=%00"),
        ("heat", "get", "/api/v2/config?prefix=a&%00=1"),
        ("heat", "put", "/api/v2/config/a%00b"),
        ("heat", "post", "/auth/login?next=%00"),
        ("sites", "get", "/api/v1/public/sites/%00"),
        ("sites", "get", "/api/v1/public/sites?page=%00"),
        ("sites", "get", "/api/v1/gateway/schedules?x=%00"),
        ("scenarios", "get", "/api/v1/sessions/%00/scenarios"),
        ("scenarios", "get", "/api/v1/sessions/main/data/%00"),
        ("scenarios", "get", "/api/v1/sessions/main/scenarios?status=%00"),
        ("crowd", "get", "/v1/requests/%00"),
        ("crowd", "post", "/v1/requests/free-text?block=%00"),
    ]
]


@pytest.mark.parametrize(("family", "method", "url"), URLS)
def test_nul_in_path_or_query_is_400_in_the_family_shape(world, family, method, url):
    client = world.client(family, url)
    if method == "get":
        response = client.get(url)
    else:
        response = getattr(client, method)(url, data=b"{}", content_type="application/json")
    assert_refused(response, family, 400)


HEADER_URLS = [
    with_database(case[0], *case)
    for case in [
        ("heat", "/api/v2/user_data"),
        ("sites", "/api/v1/public/sites"),
        ("scenarios", "/api/v1/sessions"),
        ("crowd", "/v1/requests/00000000-0000-0000-0000-000000000000"),
    ]
]


@pytest.mark.parametrize(("family", "url"), HEADER_URLS)
@pytest.mark.parametrize("value", ["a\x00b", "\ud800"])
def test_bad_characters_in_a_header_are_400_in_the_family_shape(world, family, url, value):
    response = world.client(family, url).get(url, headers={"X-Trace": value})
    assert_refused(response, family, 400)
    assert "X-Trace" in response.json().get("message", response.json().get("detail", ""))


def test_portal_page_with_nul_in_its_path_is_a_plain_400(db, client):
    response = client.get("/sessions/%00/")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


# Endpoints that take a request but no JSON body: raw bytes, multipart uploads, bodiless actions.
NOT_JSON = {
    "v2-node-outputs",
    "scenarios-etl",
    "scenarios-scenario-run",
    "scenarios-scenario-reset",
    "crowd-abort",
    "auth-logout",
}


def _api_views(patterns, found=None):
    from django.urls import URLPattern, URLResolver

    found = {} if found is None else found
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _api_views(pattern.url_patterns, found)
        elif isinstance(pattern, URLPattern) and pattern.name:
            found[pattern.name] = pattern.callback
    return found


def test_every_json_endpoint_of_every_family_is_in_the_table():
    """A new endpoint that takes a body is added to ENDPOINTS (or NOT_JSON) so that it gets
    every bad body too."""
    from django.urls import get_resolver, resolve

    from heatportal.api.views import ApiView

    ids = {"project": 1, "session": "00000000-0000-0000-0000-000000000001", "site": "x"}
    ids["scenario"] = ids["session"]
    covered = {resolve(e.path.format(**ids)).url_name for e in ENDPOINTS}
    taking_bodies = set()
    for name, callback in _api_views(get_resolver().url_patterns).items():
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if view is not None and issubclass(view, ApiView):
            if any(hasattr(view, method) for method in ("post", "put", "patch")):
                taking_bodies.add(name)
        elif callback.__module__ == "crowd_app.api.views":
            taking_bodies.add(name)
    assert taking_bodies - covered - NOT_JSON == set()
    assert taking_bodies >= NOT_JSON


@pytest.mark.django_db
async def test_the_url_guard_answers_under_asgi_too(async_client):
    response = await async_client.get("/api/v1/sessions/%00/scenarios", headers={"X-Trace": "ok"})

    assert response.status_code == 400
    assert response.json() == {"detail": "The URL path must not contain NUL characters."}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v2/projects/99999999999999999999999",
        "/api/v2/node_instances/9223372036854775808/outputs",
        "/api/v2/node_outputs/99999999999999999999/data",
    ],
)
def test_an_id_beyond_64_bits_in_the_path_is_a_404(world, url):
    response = world.heat.get(url)

    assert response.status_code == 404
    assert heat_shape(response.json(), 404)
