from django import forms

from crowd_app.models import CrowdRequest, RequestType


class AccountForm(forms.Form):
    name = forms.CharField(max_length=100, label="Account name")


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, label="Key name")
    test = forms.BooleanField(required=False, label="Test key (staging: answered by simulated crunchers)")


class RequestFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *CrowdRequest.Status.choices], required=False)
    type = forms.ChoiceField(choices=[("", "Any type"), *RequestType.choices], required=False)
    staging = forms.ChoiceField(
        choices=[("", "Live and staging"), ("no", "Live"), ("yes", "Staging")],
        required=False,
        label="Environment",
    )
