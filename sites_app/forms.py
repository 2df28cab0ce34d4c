"""Forms of the energy sites pages. They parse input; the services decide."""

from datetime import datetime
from typing import Any

from django import forms

from sites_app.live import DEFAULT_RANGE, RANGES


class AccessGroupForm(forms.Form):
    name = forms.CharField(max_length=100)


class SiteForm(forms.Form):
    prefix = "site"  # shares the group page with ApiKeyForm
    name = forms.CharField(label="Site name", max_length=200)


class DateAndTimeField(forms.SplitDateTimeField):
    """A date and a time; a date without a time means its start (00:00)."""

    def clean(self, value: Any) -> datetime | None:
        if isinstance(value, (list, tuple)) and len(value) == 2 and value[0] and not value[1]:
            value = [value[0], "00:00"]
        return super().clean(value)


class ApiKeyForm(forms.Form):
    prefix = "key"
    name = forms.CharField(label="Key name", max_length=100, help_text="Unique in this access group.")
    # A date picker and a 24-hour time typed as HH:MM: a native datetime-local field shows a
    # 12-hour clock in many browsers' locales, and the portal's times are 24-hour UTC.
    expires_at = DateAndTimeField(
        label="Expires at (UTC)",
        required=False,
        widget=forms.SplitDateTimeWidget(
            date_attrs={"type": "date", "class": "date-input", "aria-label": "Expiry date (UTC)"},
            time_attrs={
                "class": "time-input",
                "placeholder": "HH:MM",
                "pattern": "([01][0-9]|2[0-3]):[0-5][0-9]",
                "inputmode": "numeric",
                "size": "5",
                "maxlength": "5",
                "aria-label": "Expiry time, 24-hour (UTC)",
                "title": "24-hour time, HH:MM (UTC)",
            },
            date_format="%Y-%m-%d",
            time_format="%H:%M",
        ),
        input_date_formats=["%Y-%m-%d"],
        input_time_formats=["%H:%M", "%H:%M:%S"],
        help_text="A date, and a 24-hour time in UTC (00:00 when left empty). "
        "Leave both empty for a key that does not expire.",
    )


class HistoryRangeForm(forms.Form):
    """The site page's history range (``?range=``): 6 hours, 24 hours (the default) or 7 days."""

    range = forms.ChoiceField(choices=[(key, r.label) for key, r in RANGES.items()], required=False)

    def clean_range(self) -> str:
        return self.cleaned_data["range"] or DEFAULT_RANGE


def history_range(data: Any) -> str | None:
    """The range ``data`` asks for (the default when it names none), or None when it names an
    unknown one."""
    form = HistoryRangeForm(data)
    return form.cleaned_data["range"] if form.is_valid() else None
