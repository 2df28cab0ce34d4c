"""Forms of the portal's own pages."""

from django import forms

from heatportal.labels import kind_label
from heatportal.selectors import ACTIONS, content_type_list


class ChangeFilterForm(forms.Form):
    """The filters of the Changes page (all optional)."""

    kind = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    actor = forms.CharField(required=False, max_length=150, help_text='A user name, or "command NAME".')
    action = forms.TypedChoiceField(
        choices=[("", "Any action"), *((str(value), label) for value, label in ACTIONS.items())],
        coerce=int,
        empty_value=None,
        required=False,
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(required=False, max_length=200, label="Object")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = [(str(ct.pk), kind_label(ct)) for ct in content_type_list(tracked=True)]
        self.fields["kind"].choices = [("", "Any kind"), *kinds]
