"""Forms of the sessions area's portal pages. They parse input; the services decide."""

from django import forms

from sessions_app.models import PlatformConfiguration


class ConfigForm(forms.Form):
    """A platform configuration entry. The value is checked against its type by the service."""

    name = forms.CharField(
        max_length=300, help_text='Hierarchical, with ":" between parts, e.g. public_api_v1:max_rows.'
    )
    value_type = forms.TypedChoiceField(
        label="Type",
        choices=PlatformConfiguration.ValueType.choices,
        coerce=int,
        initial=PlatformConfiguration.ValueType.STRING,
    )
    value = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Booleans: true or false. JSON: any JSON document.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    @classmethod
    def for_config(cls, config: PlatformConfiguration, data=None) -> "ConfigForm":
        initial = {
            "name": config.name,
            "value_type": config.value_type,
            "value": config.value,
            "description": config.description,
        }
        return cls(data=data, initial=initial)
