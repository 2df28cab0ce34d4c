"""Portal forms of the scenario runner. The scenario form is generated from the parameter schema."""

from __future__ import annotations

import math
from typing import cast

from django import forms

from scenarios_app.parameters import Parameter, ParameterError, Rule, validate_parameters


class SessionForm(forms.Form):
    display_name = forms.CharField(label="Display name", max_length=200)


class CopySessionForm(forms.Form):
    new_display_name = forms.CharField(label="Name of the copy", max_length=200)


def parameter_field(parameter: Parameter) -> forms.Field:
    """The form field of one typed parameter (its min/max, choices and default)."""
    common = {
        "label": parameter.label or parameter.name,
        "help_text": parameter.help,
        "initial": parameter.default,
    }
    if parameter.type == "integer":
        # An integer is at least 1.5 when it is at least 2: the bounds rounded inwards.
        return forms.IntegerField(
            min_value=None if parameter.min is None else math.ceil(parameter.min),
            max_value=None if parameter.max is None else math.floor(parameter.max),
            required=parameter.required,
            **common,
        )
    if parameter.type == "float":
        field = forms.FloatField(
            min_value=parameter.min, max_value=parameter.max, required=parameter.required, **common
        )
        field.widget.attrs["step"] = "any"
        return field
    if parameter.type == "boolean":
        return forms.BooleanField(required=False, **common)
    if parameter.type == "enum":
        return forms.ChoiceField(choices=[(choice, choice) for choice in parameter.choices or ()], **common)
    return forms.CharField(max_length=parameter.max_length, required=parameter.required, **common)


class ScenarioForm(forms.Form):
    """Tag and dataset, then one field per parameter of the chosen algorithm (prefixed ``p_``)."""

    tag = forms.CharField(max_length=200)
    dataset_key = forms.ChoiceField(label="Dataset")

    def __init__(
        self,
        *args,
        dataset_keys: list[str],
        parameters: tuple[Parameter, ...],
        rules: tuple[Rule, ...] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["dataset_key"]).choices = [(key, key) for key in dataset_keys]
        self.parameters = parameters
        self.rules = rules
        for parameter in parameters:
            self.fields[f"p_{parameter.name}"] = parameter_field(parameter)

    @staticmethod
    def typed_values(data, parameters: tuple[Parameter, ...]) -> dict[str, str]:
        """What the user typed that a form for ``parameters`` can show again: the tag, the
        dataset and the values of the parameters it shares with the form they came from."""
        names = ["tag", "dataset_key", *(f"p_{parameter.name}" for parameter in parameters)]
        return {name: data[name] for name in names if data.get(name, "") != ""}

    def clean(self):
        cleaned_data = super().clean()
        if not any(f"p_{parameter.name}" in self.errors for parameter in self.parameters):
            # The schema's cross-field rules (the service checks them too, for the API).
            try:
                validate_parameters(self.parameters, self.algo_params(), self.rules)
            except ParameterError as error:
                field = f"p_{error.parameter}"
                self.add_error(field if field in self.fields else None, error.page_message)
        return cleaned_data

    def parameter_fields(self):
        return [self[f"p_{parameter.name}"] for parameter in self.parameters]

    def algo_params(self) -> dict:
        values = {}
        for parameter in self.parameters:
            value = self.cleaned_data.get(f"p_{parameter.name}")
            if value is None or (value == "" and not parameter.required):
                continue
            values[parameter.name] = value
        return values


class _UtcDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


def _site_choices(sites) -> list[tuple[str, str]]:
    return [(str(site.id), f"{site.group} · {site.name}") for site in sites]


class FromSiteForm(forms.Form):
    """A dataset from a site's measured history (``services.dataset_create_from_site``)."""

    session = forms.ChoiceField(label="Session")
    new_key = forms.CharField(label="New dataset key", max_length=200)
    site = forms.ChoiceField(label="Site")
    start = forms.DateTimeField(label="From (UTC)", widget=_UtcDateTimeInput())
    end = forms.DateTimeField(label="To (UTC)", widget=_UtcDateTimeInput())

    def __init__(self, *args, sessions, sites, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(session.pk), session.display_name) for session in sessions]
        cast(forms.ChoiceField, self.fields["session"]).choices = choices
        cast(forms.ChoiceField, self.fields["site"]).choices = _site_choices(sites)


class ApplyForm(forms.Form):
    """A scenario's dispatch to a site: which site, from when (``services.scenario_apply_to_site``)."""

    site = forms.ChoiceField(label="Site")
    start_at = forms.DateTimeField(label="Start (UTC)", widget=_UtcDateTimeInput())

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["site"]).choices = _site_choices(sites)
