"""DRF's JSON parser, reading bodies with :func:`heatportal.api.input.parse_json`."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from heatportal.api.input import BadInput, parse_json


class InvalidBody(ParseError):
    """A body that :func:`parse_json` refused; ``bad_input`` says what and where."""

    def __init__(self, bad_input: BadInput):
        if bad_input.kind == "json_invalid":
            message = f"JSON parse error - {bad_input.message}"
        else:
            message = f"Invalid request body: {bad_input}"
        super().__init__(detail=message)
        self.bad_input = bad_input
        self.details = [{"field": bad_input.field, "message": bad_input.message}] if bad_input.loc else None


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        raw = stream.read()
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise InvalidBody(BadInput(f"the body is not {encoding}", kind="json_invalid")) from error
        try:
            return parse_json(text)
        except BadInput as error:
            raise InvalidBody(error) from None
