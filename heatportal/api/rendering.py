"""One way every API renders JSON: orjson, with what DRF's encoder did for the types it met."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from django.http import HttpResponse


def _default(value: Any) -> Any:
    # What orjson does not know: Decimal as a number, like DRF's JSON encoder.
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "tolist"):  # NumPy scalars and arrays in results
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def render(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    """A JSON response; datetimes in ISO 8601 with ``Z`` for UTC, as DRF rendered them."""
    body = b""
    if not (data is None and status == 204):
        body = orjson.dumps(data, default=_default, option=orjson.OPT_UTC_Z)
    response = HttpResponse(body, status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response
