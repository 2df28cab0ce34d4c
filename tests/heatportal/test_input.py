"""heatportal/api/input.py: what a JSON body, a URL and a column may hold."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heatportal.api.input import MAX_JSON_DEPTH, BadInput, check_columns, column_bounds, parse_json
from scenarios_app.models import RunnerSession, Scenario
from sessions_app.models import Session


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("[" * 3000, "json_invalid"),  # the decoder's own recursion limit
        ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "json_invalid"),
        ('{"a": ' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1), "json_invalid"),
        ('{"text": "a\\u0000b"}', "string_pattern_mismatch"),
        ('{"a\\u0000": 1}', "string_pattern_mismatch"),
        ('{"text": "\\ud800"}', "string_unicode"),
        ('["\\udfff x"]', "string_unicode"),
        ('{"\\ud800": 1}', "string_unicode"),
        ('{"n": 9223372036854775808}', "int_parsing_size"),
        ('{"n": -9223372036854775809}', "int_parsing_size"),
        ('{"n": ' + "9" * 5000 + "}", "int_parsing_size"),  # past Python's int-string limit too
        ('{"n": NaN}', "finite_number"),
        ('{"n": Infinity}', "finite_number"),
        ('{"n": -Infinity}', "finite_number"),
        ('{"n": 1e400}', "finite_number"),
        ('{"n": -1e400}', "finite_number"),
        ("{'single': 1}", "json_invalid"),
        ("", "json_invalid"),
    ],
)
def test_refused_json(raw, kind):
    with pytest.raises(BadInput) as caught:
        parse_json(raw.encode())
    assert caught.value.kind == kind


def test_refusals_name_where_the_value_is():
    with pytest.raises(BadInput) as caught:
        parse_json(b'{"outer": [1, {"text": "\\u0000"}]}')
    assert caught.value.loc == ("outer", 1, "text")
    assert str(caught.value) == "outer.1.text: must not contain NUL characters"


@pytest.mark.parametrize(
    "raw",
    [
        "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH,
        '{"n": 9223372036854775807, "m": -9223372036854775808}',
        '{"emoji": "\\ud83d\\ude00", "plain": "\U0001f600", "x": 1.5e308}',
        '"\\\\u0000 is only text"',  # an escaped backslash: no NUL
    ],
)
def test_accepted_json(raw):
    assert parse_json(raw.encode()) == json.loads(raw)


def test_body_that_is_not_utf8_is_refused():
    with pytest.raises(BadInput) as caught:
        parse_json(b'{"a": "\xff"}')
    assert caught.value.kind == "json_invalid"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_parse_json_accepts_exactly_what_can_be_stored(value):
    """Any JSON text either parses to the value it encodes, or is refused with BadInput, never
    another exception; what is accepted holds no NUL, no lone surrogate, no non-finite number and
    no integer beyond 64 bits."""
    raw = json.dumps(value)  # NaN and infinities as the non-standard literals
    try:
        parsed = parse_json(raw.encode("utf-8", "surrogatepass"))
    except BadInput:
        return
    assert parsed == value
    text = json.dumps(parsed, allow_nan=False)  # raises on a non-finite number
    assert "\\u0000" not in text
    text.encode("utf-8")  # raises on a lone surrogate


# --- Columns ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "kind"),
    [
        ({"tag": "x" * 201}, "tag", "string_too_long"),
        ({"tag": "a\x00b"}, "tag", "string_pattern_mismatch"),
        ({"tag": "\ud800"}, "tag", "string_unicode"),
        ({"attempts": -1}, "attempts", "greater_than_equal"),  # PositiveIntegerField
        ({"attempts": 2**31}, "attempts", "less_than_equal"),
        ({"progress": float("nan")}, "progress", "finite_number"),
        ({"progress": float("inf")}, "progress", "finite_number"),
        ({"algo_params": {"x": float("inf")}}, "algo_params.x", "finite_number"),
        ({"algo_params": {"x": "\x00"}}, "algo_params.x", "string_pattern_mismatch"),
    ],
)
def test_column_check_names_the_field(fields, field, kind):
    scenario = Scenario(**{"tag": "ok", "algo_name": "Slow", **fields})
    with pytest.raises(BadInput) as caught:
        check_columns(scenario)
    assert (caught.value.field, caught.value.kind) == (field, kind)


def test_column_bounds_for_a_serializer_come_from_the_column():
    assert column_bounds(Session, "machine_group") == {"min_value": -(2**31), "max_value": 2**31 - 1}
    assert column_bounds(Scenario, "attempts") == {"min_value": 0, "max_value": 2**31 - 1}


def test_column_check_uses_the_32_bit_range_on_every_database():
    check_columns(Session(name="s", machine_group=2**31 - 1))
    with pytest.raises(BadInput) as caught:
        check_columns(Session(name="s", machine_group=2**31))
    assert caught.value.field == "machine_group"
    assert caught.value.message == "must be at most 2147483647"


@pytest.mark.django_db
def test_saving_a_value_its_column_cannot_hold_raises_before_the_database():
    with pytest.raises(BadInput):
        RunnerSession.objects.create(display_name="x" * 201)
    with pytest.raises(BadInput):
        RunnerSession.objects.create(display_name="nul\x00")
    assert not RunnerSession.objects.filter(display_name__startswith="x").exists()
    session = RunnerSession.objects.create(display_name="fine")
    session.display_name = "\ud800"
    with pytest.raises(BadInput):
        session.save(update_fields=["display_name"])
