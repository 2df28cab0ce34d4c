"""Request field names in any case: the HEAT documents send PascalCase, camelCase and
snake_case. Views normalise the top-level keys to snake_case before validating."""

import re

from rest_framework import serializers

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``SessionTemplateId``, ``sessionTemplateId``, ``session_template_id`` → ``session_template_id``."""
    return _BOUNDARY.sub("_", name).lower()


def snake_keys(data: object) -> object:
    """The same mapping with its top-level keys in snake_case; nested values are kept as sent."""
    if not isinstance(data, dict):
        return data
    return {snake_case(str(key)): value for key, value in data.items()}


class StrictCharField(serializers.CharField):
    """A text field that takes JSON strings only. DRF's CharField turns numbers into text
    (``0`` → ``"0"``); the schema says ``string``, and so did the .NET server whose clients
    these APIs serve, so a number is refused like any other wrong type."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
