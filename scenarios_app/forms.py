"""Portal forms of the scenario runner. The scenario form is generated from the parameter schema."""

from __future__ import annotations

from django import forms

from scenarios_app.parameters import Parameter


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
        return forms.IntegerField(
            min_value=parameter.min, max_value=parameter.max, required=parameter.required, **common
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

    def __init__(self, *args, dataset_keys: list[str], parameters: tuple[Parameter, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset_key"].choices = [(key, key) for key in dataset_keys]
        self.parameters = parameters
        for parameter in parameters:
            self.fields[f"p_{parameter.name}"] = parameter_field(parameter)

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
