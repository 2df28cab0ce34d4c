"""The scenario runner's bodies as the OpenAPI schema gives them (document 003's shapes):
documentation only, never used when answering a request.

The views validate bodies with the Pydantic models of :mod:`scenarios_app.api.inputs` and build
responses with :mod:`scenarios_app.api.outputs`; these serializers only describe them.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from scenarios_app.models import Scenario

NAME_MAX_LENGTH = 200  # display names, tags, dataset keys: non-blank, at most 200 characters


def _name(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=NAME_MAX_LENGTH, **kwargs)


# --- Requests ---------------------------------------------------------------------------------


class SessionCreate(serializers.Serializer):
    display_name = _name()


class SessionCopy(serializers.Serializer):
    new_display_name = _name()


class ScenarioCreate(serializers.Serializer):
    tag = _name()
    dataset_key = _name()
    algo_name = _name()
    algo_params = serializers.DictField(
        required=False, allow_null=True, help_text="Values of the algorithm's parameters, by name."
    )
    data_params = serializers.DictField(
        required=False, allow_null=True, help_text="Data-source parameters to override, by name."
    )


class DatasetDerive(serializers.Serializer):
    new_key = _name()


class DatasetPayload(serializers.Serializer):
    """``DataSource.to_json()``: what ``GET /data/{key}`` answers and ``POST /data/from-json``
    takes (one of these, or an array of them)."""

    key = _name()
    schema = serializers.CharField(help_text="The dataset schema, e.g. load_profile.")
    parameters = serializers.DictField()
    tables = serializers.DictField(help_text="Table groups: {group: {table: [row, ...]}}.")


class PricePoint(serializers.Serializer):
    t = serializers.DateTimeField(help_text="From when the price holds (until the next point's t).")
    value = serializers.FloatField(min_value=-10, max_value=10, help_text="EUR/kWh")


class DatasetFromSite(serializers.Serializer):
    """A dataset of a site's measured load and PV at 15-minute resolution."""

    new_key = _name(help_text="The new dataset's key (409 when taken).")
    siteId = serializers.UUIDField(help_text="The energy site whose history is read.")
    to = serializers.DateTimeField(help_text="End of the range (exclusive), with a time zone.")
    prices = PricePoint(
        many=True,
        required=False,
        allow_null=True,
        help_text="Optional price series; without it a flat 0.25 EUR/kWh.",
    )

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: declared here under its wire name.
        fields["from"] = serializers.DateTimeField(
            help_text="Start of the range, with a time zone (rounded down to its quarter hour)."
        )
        return fields


class ScenarioApply(serializers.Serializer):
    siteId = serializers.UUIDField(help_text="The energy site whose BESS gets the schedule.")
    startAt = serializers.DateTimeField(help_text="When the dispatch's first step starts, with a time zone.")


# --- Responses --------------------------------------------------------------------------------


class HealthOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok"])
    title = serializers.CharField()
    sessions = serializers.ListField(child=serializers.CharField())


class SessionRow(serializers.Serializer):
    id = serializers.UUIDField()
    display_name = serializers.CharField()


class SessionListOutput(serializers.Serializer):
    sessions = SessionRow(many=True)
    default = serializers.UUIDField(allow_null=True)


class AlgorithmListOutput(serializers.Serializer):
    algorithms = serializers.ListField(child=serializers.CharField())


class KpiListOutput(serializers.Serializer):
    kpis = serializers.ListField(child=serializers.CharField())


class ParameterDescriptor(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(help_text="integer, float, string, enum, ...")
    # The stubs type Field.required as a bool; DRF lets a declared field take the name.
    required = serializers.BooleanField()  # type: ignore[assignment]
    value = serializers.JSONField(required=False, allow_null=True)
    default = serializers.JSONField(required=False, allow_null=True)
    min = serializers.FloatField(required=False)
    max = serializers.FloatField(required=False)
    choices = serializers.ListField(child=serializers.JSONField(), required=False)
    max_length = serializers.IntegerField(required=False)


class AlgorithmParametersOutput(serializers.Serializer):
    name = serializers.CharField()
    parameters = ParameterDescriptor(many=True)


class DatasetParametersOutput(serializers.Serializer):
    key = serializers.CharField()
    parameters = ParameterDescriptor(many=True)


class AlgorithmOutput(serializers.Serializer):
    name = serializers.CharField()
    parameters = serializers.ListField(
        child=serializers.DictField(), help_text="Parameter descriptors with their values."
    )


class KpiValue(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.FloatField(allow_null=True, help_text="null until the scenario is complete")
    unit = serializers.CharField()


class ScenarioOutput(serializers.Serializer):
    """``Scenario.to_dict()``."""

    id = serializers.UUIDField()
    tag = serializers.CharField()
    input_data_id = serializers.CharField()
    algorithm = AlgorithmOutput()
    data_params = serializers.DictField(allow_null=True)
    kpis = serializers.DictField(child=KpiValue())
    status = serializers.ChoiceField(choices=Scenario.Status.choices)
    progress = serializers.FloatField(min_value=0, max_value=1)
    error = serializers.CharField(allow_null=True)
    result = serializers.JSONField(allow_null=True, help_text="null until the scenario is complete")


class ScenarioStatusOutput(serializers.Serializer):
    id = serializers.UUIDField()
    tag = serializers.CharField()
    status = serializers.ChoiceField(choices=Scenario.Status.choices)
    progress = serializers.FloatField(min_value=0, max_value=1)


class DatasetKeysOutput(serializers.Serializer):
    keys = serializers.ListField(child=serializers.CharField())


class EtlMessage(serializers.Serializer):
    level = serializers.CharField()
    message = serializers.CharField()
    table = serializers.CharField(required=False)
    row = serializers.IntegerField(required=False)
    column = serializers.CharField(required=False)


class EtlOutput(serializers.Serializer):
    dataset_name = serializers.CharField()
    success = serializers.BooleanField()
    keys = serializers.ListField(child=serializers.CharField())
    messages = EtlMessage(many=True)


class ScenarioApplyOutput(serializers.Serializer):
    batchId = serializers.UUIDField(help_text="The schedule batch stored (the site's audit trail).")
    accepted = serializers.IntegerField(help_text="Number of entries stored.")


class ScheduleRefusal(serializers.Serializer):
    """400 from the sites' schedule rules: the runner's ``detail`` and the rules' items."""

    detail = serializers.CharField()
    details = serializers.ListField(
        required=False,
        child=serializers.DictField(),
        help_text="Document 002's details items: command, asset, type, entry, field, message.",
    )
