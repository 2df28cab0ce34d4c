"""One way every API renders JSON: orjson, with what DRF's encoder did for the types it met."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse

from heatportal.sqlrows import RawJson


def _default(value: Any) -> Any:
    # What orjson does not know: stored JSON passed on as it is; Decimal as a number, like
    # DRF's JSON encoder.
    if isinstance(value, RawJson):
        return orjson.Fragment(value.text)
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "tolist"):  # NumPy scalars and arrays in results
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class _Encoder(DjangoJSONEncoder):
    def default(self, value: Any) -> Any:
        if isinstance(value, datetime.datetime):
            return orjson.loads(orjson.dumps(value, option=orjson.OPT_UTC_Z))
        if isinstance(value, RawJson):
            return value.value()
        try:
            return _default(value)
        except TypeError:
            return super().default(value)


def dumps(data: Any) -> bytes:
    """``data`` as compact JSON. orjson refuses integers beyond 64 bits (which a client can have
    stored as a float like ``1e67``, read back as an integer): those bodies take the standard
    library's slower way, with the same text for everything else."""
    try:
        return orjson.dumps(data, default=_default, option=orjson.OPT_UTC_Z)
    except TypeError:
        return json.dumps(data, cls=_Encoder, separators=(",", ":"), ensure_ascii=False).encode()


def render(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    """A JSON response; datetimes in ISO 8601 with ``Z`` for UTC, as DRF rendered them."""
    body = b""
    if not (data is None and status == 204):
        body = dumps(data)
    response = HttpResponse(body, status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response
