"""Fuzzing: any value in any field of each JSON endpoint's body gets a 2xx or a 4xx in the
family's shape, never a 5xx (issue 10). Hypothesis replaces one field of the endpoint's valid
body (or the whole body) with hostile values: edge dates, huge and negative numbers, NUL and
surrogates, long strings, nested containers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.heatportal.test_bad_input import ALL_ENDPOINTS, SHAPES, Endpoint, build_world, send

TEXTS = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\ud800",
        "x" * 5000,
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-14:00",
        "2030-02-30T00:00:00Z",
        "1970-01-01",
        "NaN",
        "-1",
        "1e400",
        "null",
        "\u202e\U0001f600",
        "../../etc/passwd",
        "%00",
        "00000000-0000-0000-0000-000000000000",
    ]
) | st.text(max_size=30)
NUMBERS = (
    st.sampled_from(
        [0, -1, 2**31, -(2**31) - 1, 2**63 - 1, -(2**63), 2**63, 2**64, 1e308, -1e308, 5e-324, 0.5, True]
    )
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
)
VALUES = st.recursive(
    st.none() | NUMBERS | TEXTS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXTS, children, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, where: tuple = ()) -> list[tuple]:
    """Every place in a JSON value where another value could go."""
    found = [where]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*where, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*where, index))
    return found


def _replace(body: Any, where: tuple, value: Any) -> Any:
    if not where:
        return value
    target = body
    for part in where[:-1]:
        target = target[part]
    target[where[-1]] = value
    return body


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS)
def test_no_body_gets_a_5xx(endpoint: Endpoint):
    world = build_world()
    paths = _paths(endpoint.make_body(world))

    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(where=st.sampled_from(paths), value=VALUES, extra=st.booleans())
    def check(where, value, extra):
        body = endpoint.make_body(world)
        if extra and isinstance(body, dict):
            body["unexpected"] = value
        else:
            body = _replace(body, where, value)
        response = send(world, endpoint, json.dumps(body))
        assert response.status_code < 500, (body, response.content[:500])
        if response.status_code >= 400:
            assert SHAPES[endpoint.family](response.json(), response.status_code), response.content[:500]

    check()
