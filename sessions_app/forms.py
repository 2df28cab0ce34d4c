"""Forms of the sessions area's portal pages. They parse input; the services decide."""

from django import forms

from sessions_app.models import PlatformConfiguration


class ConfigForm(forms.Form):
    """A platform configuration entry. The value is checked against its type by the service."""

    name = forms.CharField(
        max_length=300,
        help_text='Hierarchical, with ":" between parts, e.g. public_api_v1:max_rows. '
        "Values of names under private: are masked on the configuration page.",
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
        help_text="Booleans: true or false (in any case; stored as true or false). JSON: any JSON document.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    # The stored value of a private entry being edited: it is never sent to the browser, and an
    # empty value keeps it.
    kept_value: str | None = None

    @classmethod
    def for_config(cls, config: PlatformConfiguration, data=None) -> "ConfigForm":
        initial = {
            "name": config.name,
            "value_type": config.value_type,
            "value": "" if config.is_private else config.value,
            "description": config.description,
        }
        form = cls(data=data, initial=initial)
        if config.is_private:
            form.kept_value = config.value
            value = form.fields["value"]
            value.widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            value.help_text = f"Private: leave empty to keep the current value. {value.help_text}"
        return form

    def clean_value(self) -> str:
        value = self.cleaned_data["value"]
        if value == "" and self.kept_value is not None:
            return self.kept_value
        return value
