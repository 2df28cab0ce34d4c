"""The portal's one format of dates, times, numbers and yes/no (heatportal/templatetags/heat_format.py)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.template import Context, Template

from heatportal.templatetags import heat_format

MINUS = "\u2212"
MOMENT = datetime(2026, 12, 1, 14, 3, 5, tzinfo=UTC)


def render(source: str, **context) -> str:
    return Template("{% load heat_format %}" + source).render(Context(context))


def test_when_gives_date_time_and_zone_in_a_time_element():
    assert render("{{ at|when }}", at=MOMENT) == (
        '<time datetime="2026-12-01T14:03:05+00:00">2026-12-01 14:03 UTC</time>'
    )


def test_when_with_seconds():
    assert heat_format.when_text(MOMENT, "s") == "2026-12-01 14:03:05 UTC"


def test_when_shows_other_zones_in_the_current_zone_with_its_name():
    in_berlin = MOMENT.astimezone(timezone(timedelta(hours=1)))

    assert heat_format.when_text(in_berlin) == "2026-12-01 14:03 UTC"


def test_when_reads_iso_strings_as_the_apis_give_them():
    assert heat_format.when_text("2026-12-01T14:03:00Z") == "2026-12-01 14:03 UTC"
    assert heat_format.when_text("2026-12-01T15:03:00+01:00") == "2026-12-01 14:03 UTC"


def test_when_of_nothing_is_empty_so_that_default_follows():
    assert render('{{ at|when|default:"never" }}', at=None) == "never"


@pytest.mark.parametrize(
    ("value", "decimals", "shown"),
    [
        (-25.5, 1, f"{MINUS}25.5"),
        (140.25, 1, "140.2"),  # round half to even, as Python's format does
        (-40.0, 1, f"{MINUS}40.0"),
        (1234567.891, 2, "1,234,567.89"),
        (-1234.5, 2, f"{MINUS}1,234.50"),
        (-0.001, 2, "0.00"),  # no negative zero
        (12000, None, "12,000"),
        (0.92, None, "0.92"),
        (200.0, None, "200"),
        (None, 2, "—"),
    ],
)
def test_number_has_fixed_decimals_thousands_separators_and_a_minus_sign(value, decimals, shown):
    assert heat_format.number(value, decimals) == shown


def test_number_in_a_template():
    assert render("{{ v|number:2 }}", v=-1234.5) == f"{MINUS}1,234.50"


def test_units():
    assert heat_format.kw(-25.5) == f"{MINUS}25.5\u202fkW"
    assert heat_format.kwh(1500) == "1,500.0\u202fkWh"
    assert heat_format.percent(55) == "55.0\u202f%"
    assert heat_format.fraction_percent(0.5) == "50.0\u202f%"
    assert heat_format.kw(None) == "—"


def test_yes_no():
    assert [heat_format.yes_no(v) for v in (True, False, None)] == ["Yes", "No", "—"]


def test_show_formats_each_type():
    assert heat_format.show(True) == "Yes"
    assert heat_format.show(-3.5) == f"{MINUS}3.5"
    assert heat_format.show(None) == "—"
    assert heat_format.show("peak") == "peak"
    assert "2026-12-01 14:03 UTC" in heat_format.show(MOMENT)


def test_inline_code_escapes_then_shows_code_spans():
    shown = render("{{ text|inline_code }}", text="Waits `duration` seconds <b>now</b> & `a<b`")

    assert shown == ("Waits <code>duration</code> seconds &lt;b&gt;now&lt;/b&gt; &amp; <code>a&lt;b</code>")
