from django import forms

from heatportal.accounts.models import AccessToken


class OfflineTokenForm(forms.Form):
    name = forms.CharField(
        max_length=AccessToken._meta.get_field("name").max_length,
        help_text="What the token is for, e.g. the machine or script that uses it.",
    )
