"""The portal's one way of showing dates, times, numbers and yes/no (docs/pages.md).

``{% load heat_format %}``, then:

- ``{{ value|when }}``: ``2026-12-01 14:03 UTC`` in a ``<time datetime="…">`` element;
  ``when:"s"`` adds seconds. Date, time and the zone's name, always; aware datetimes and ISO
  8601 strings (what the APIs' bodies hold) alike, shown in the current time zone (UTC).
  Nothing (empty) for None, so that ``|default:"never"`` follows.
- ``{{ value|number:2 }}``: fixed decimals, ``,`` between thousands, a real minus sign
  (U+2212: ``-1,234.50`` is shown with it); ``number`` with no argument: integers as
  integers, other numbers with up to four decimals and no trailing zeros (values someone
  typed, as typed). ``—`` for None.
- ``{{ value|kw }}``, ``{{ value|kwh }}``: one decimal and the unit (``-25.5 kW``, with the minus sign).
- ``{{ value|percent }}``: a value 0 to 100 with one decimal and ``%``;
  ``{{ value|fraction_percent }}`` for a fraction 0 to 1.
- ``{{ value|yes_no }}``: ``Yes`` / ``No`` (``—`` for None).
- ``{{ value|show }}``: any value of a table of data: each type as above.
- ``{{ text|inline_code }}``: escapes the text, then shows Markdown's `code` spans as <code>.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from heatportal.api.input import is_number

register = template.Library()

MINUS = "\u2212"
NARROW_SPACE = "\u202f"  # between a number and its unit: never broken apart
EMPTY = "—"


def _as_datetime(value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def when_text(value, precision: str = "") -> str:
    """``2026-12-01 14:03 UTC`` (``precision="s"``: with seconds); "" for no value."""
    moment = _as_datetime(value)
    if moment is None:
        return "" if value in (None, "") else str(value)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    local = timezone.localtime(moment)
    shown = local.strftime("%Y-%m-%d %H:%M:%S" if precision == "s" else "%Y-%m-%d %H:%M")
    return f"{shown} {local.tzname()}"


@register.filter
def when(value, precision: str = ""):
    """The date, time and zone in a ``<time>`` element (see the module's docstring)."""
    text = when_text(value, precision)
    moment = _as_datetime(value)
    if not text or moment is None:
        return text
    return format_html('<time datetime="{}">{}</time>', moment.isoformat(), text)


@register.filter
def day(value):
    """``2026-12-01``: a date alone (a date, a datetime in the current zone)."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def number_text(value, decimals=None) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            return value
    if not is_number(value):
        try:
            value = float(value)  # Decimal
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if decimals in (None, ""):
        text = f"{value:,}" if isinstance(value, int) else f"{value:,.4f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:,.{int(decimals)}f}"
    if text.startswith("-"):
        # -0.00 is shown as 0.00
        text = text[1:] if set(text[1:]) <= set("0.,") else MINUS + text[1:]
    return text


@register.filter
def number(value, decimals=None) -> str:
    """Fixed ``decimals``, thousands separated by ``,``, a minus sign (module docstring)."""
    return number_text(value, decimals)


def _with_unit(value, decimals: int, unit: str) -> str:
    text = number_text(value, decimals)
    return text if text == EMPTY else f"{text}{NARROW_SPACE}{unit}"


@register.filter
def kw(value) -> str:
    return _with_unit(value, 1, "kW")


@register.filter
def kwh(value) -> str:
    return _with_unit(value, 1, "kWh")


@register.filter
def percent(value) -> str:
    return _with_unit(value, 1, "%")


@register.filter
def fraction_percent(value) -> str:
    if not is_number(value):
        return EMPTY if value is None else str(value)
    return _with_unit(value * 100, 1, "%")


@register.filter
def yes_no(value) -> str:
    if value is None:
        return EMPTY
    return "Yes" if value else "No"


@register.filter
def show(value):
    """Any value of a data table, each type in the portal's format."""
    if value is None:
        return EMPTY
    if isinstance(value, bool):
        return yes_no(value)
    if is_number(value):
        return number_text(value)
    if isinstance(value, datetime):
        return when(value)
    return value


CODE_SPAN = re.compile(r"`([^`\n]+)`")


@register.filter(is_safe=True)
def inline_code(text) -> str:
    """The text escaped, with Markdown's `code` spans as ``<code>`` (nothing else of Markdown)."""
    if text is None:
        return ""
    return mark_safe(CODE_SPAN.sub(r"<code>\1</code>", escape(str(text))))  # noqa: S308 (escaped first)
