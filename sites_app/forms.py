"""Forms of the energy sites pages. They parse input; the services decide."""

from django import forms


class AccessGroupForm(forms.Form):
    name = forms.CharField(max_length=100)


class SiteForm(forms.Form):
    prefix = "site"  # shares the group page with ApiKeyForm
    name = forms.CharField(label="Site name", max_length=200)


class ApiKeyForm(forms.Form):
    prefix = "key"
    name = forms.CharField(label="Key name", max_length=100, help_text="Unique in this access group.")
    expires_at = forms.DateTimeField(
        label="Expires at (UTC)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text="Leave empty for a key that does not expire.",
    )
