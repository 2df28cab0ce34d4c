"""``{{ value|crowd_answer }}``: a cruncher's answer (or a request's response) as people read
it, on the work page and the request page: lists as comma-separated items, objects (the marks
of annotations) as ``key: value`` lines, booleans as Yes/No, numbers as numbers, links as
links. The Request object's JSON, shown beside it, stays the exact value."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from crowd_app.validation import is_http_url

register = template.Library()


def _scalar(value: Any) -> SafeString:
    if value is None:
        return mark_safe('<span class="muted">none</span>')
    if isinstance(value, bool):
        return format_html("{}", "Yes" if value else "No")
    if isinstance(value, float) and value.is_integer():
        return format_html("{}", int(value))
    if isinstance(value, str) and is_http_url(value):
        return format_html('<a href="{}" rel="noopener noreferrer">{}</a>', value, value)
    return format_html("{}", value)


def _inline(value: Any) -> SafeString:
    """A value inside a line: lists comma-separated, objects as ``key: value`` pairs."""
    if isinstance(value, list):
        return mark_safe(", ".join(_inline(item) for item in value))  # noqa: S308 (escaped parts)
    if isinstance(value, dict):
        return format_html_join("; ", "{}: {}", ((key, _inline(item)) for key, item in value.items()))
    return _scalar(value)


def _lines(value: dict) -> SafeString:
    return format_html(
        '<ul class="answer-lines">{}</ul>',
        format_html_join("", "<li>{}: {}</li>", ((key, _inline(item)) for key, item in value.items())),
    )


@register.filter
def crowd_answer(value: Any) -> SafeString:
    if isinstance(value, dict):
        return _lines(value)
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        # Annotations: one numbered block of lines per mark.
        marks = ((_lines(item) if isinstance(item, dict) else _inline(item),) for item in value)
        return format_html('<ol class="answer-marks">{}</ol>', format_html_join("", "<li>{}</li>", marks))
    if isinstance(value, list) and not value:
        return mark_safe('<span class="muted">nothing chosen</span>')
    return _inline(value)
