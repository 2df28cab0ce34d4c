"""What a cruncher's answer may contain, per request type (document 004), and the values
request bodies choose from (their input models: :mod:`crowd_app.api.inputs`).

``answer_clean`` checks one answer against its request; it raises :class:`InvalidParams`
naming the offending field.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from crowd_app.models import RequestType
from heatportal.api.input import is_number

MEDIA_TYPES = ("text", "image", "video", "audio", "website")
ANNOTATION_TYPES = ("point", "rectangle")
VALIDATIONS = ("number", "url")
ANNOTATION_KINDS: dict[str, str | None] = {
    RequestType.ANNOTATIONS: None,
    RequestType.ANNOTATIONS_WITH_MULTIPLE_CHOICE: RequestType.MULTIPLE_CHOICE,
    RequestType.ANNOTATIONS_WITH_FREE_TEXT: RequestType.FREE_TEXT,
    RequestType.ANNOTATIONS_WITH_RATING: RequestType.RATING,
}
MEDIA_ANSWER_TYPES = (RequestType.IMAGE, RequestType.VIDEO, RequestType.AUDIO)
NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class InvalidParams(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = f"{field}: {message}"


def is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- Answers ----------------------------------------------------------------------------------


def _answer_choices(params: dict, answer: Any, field: str) -> list[str]:
    if not isinstance(answer, list) or not all(isinstance(item, str) for item in answer):
        raise InvalidParams(field, "must be a list of choices")
    if len(set(answer)) != len(answer):
        raise InvalidParams(field, "must not repeat a choice")
    unknown = [item for item in answer if item not in params["choices"]]
    if unknown:
        raise InvalidParams(field, f"{unknown[0]!r} is not one of the choices")
    minimum, maximum = params.get("min_answers", 1), params.get("max_answers", 0)
    if len(answer) < minimum:
        raise InvalidParams(field, f"choose at least {minimum}")
    if maximum and len(answer) > maximum:
        raise InvalidParams(field, f"choose at most {maximum}")
    return answer


def _answer_text(params: dict, answer: Any, field: str) -> str:
    if not isinstance(answer, str) or not answer.strip():
        raise InvalidParams(field, "must be a non-empty text")
    answer = answer.strip()
    if len(answer) > 10_000:
        raise InvalidParams(field, "must be at most 10000 characters")
    validation = params.get("validation")
    if validation == "number" and not NUMBER_RE.match(answer):
        raise InvalidParams(field, "must be a number")
    if validation == "url" and not is_http_url(answer):
        raise InvalidParams(field, "must be a URL")
    return answer


def _answer_rating(params: dict, answer: Any, field: str) -> int | float:
    if isinstance(answer, str):
        try:
            answer = float(answer)
        except ValueError:
            raise InvalidParams(field, "must be a number") from None
    if not is_number(answer):
        raise InvalidParams(field, "must be a number")
    low, high, step = params["rating_min"], params["rating_max"], params["rating_step"]
    if answer < low or answer > high:
        raise InvalidParams(field, f"must be between {low} and {high}")
    steps = (answer - low) / step
    if abs(steps - round(steps)) > 1e-6:
        raise InvalidParams(field, f"must be {low} plus a multiple of {step}")
    value = low + round(steps) * step
    return int(value) if float(value).is_integer() else round(value, 10)


def _coordinate(item: dict, key: str, field: str) -> int | float:
    value: Any = item.get(key)
    if not is_number(value) or value < 0:
        raise InvalidParams(f"{field}.{key}", "must be a non-negative number")
    return int(value) if float(value).is_integer() else value


def _answer_annotations(
    request_type: str, params: dict[str, Any], answer: Any, field: str
) -> list[dict[str, Any]]:
    if not isinstance(answer, list):
        raise InvalidParams(field, "must be a list of annotations")
    minimum, maximum = params.get("min_annotations", 1), params.get("max_annotations")
    if len(answer) < minimum:
        raise InvalidParams(field, f"mark at least {minimum}")
    if maximum and len(answer) > maximum:
        raise InvalidParams(field, f"mark at most {maximum}")
    return [
        _annotation_clean(request_type, params, item, f"{field}[{index}]")
        for index, item in enumerate(answer)
    ]


def _annotation_clean(request_type: str, params: dict[str, Any], item: Any, where: str) -> dict[str, Any]:
    """One annotation of an answer: its coordinates for the attachments' media, the attachment
    it marks and its inner answer."""
    if not isinstance(item, dict):
        raise InvalidParams(where, "must be an object")
    inner = ANNOTATION_KINDS[request_type]
    media = params.get("attachments_type", "text")
    out: dict[str, Any] = {}
    if media in ("image", "video", "website", "text"):
        out["x"], out["y"] = _coordinate(item, "x", where), _coordinate(item, "y", where)
        if params.get("annotations_type") == "rectangle":
            out["x2"], out["y2"] = _coordinate(item, "x2", where), _coordinate(item, "y2", where)
    if media in ("video", "audio"):
        out["t"] = _coordinate(item, "t", where)
    if len(params.get("attachments", [])) > 1:
        index_value = item.get("attachment_index", 0)
        if not _is_int(index_value) or not 0 <= index_value < len(params["attachments"]):
            raise InvalidParams(f"{where}.attachment_index", "must name one of the attachments")
        out["attachment_index"] = index_value
    if inner is not None:
        out["response"] = _answer_for(
            inner, params["per_annotation"], item.get("response"), f"{where}.response"
        )
    return out


def _answer_for(request_type: str, params: dict, answer: Any, field: str) -> Any:
    if request_type == RequestType.MULTIPLE_CHOICE:
        return _answer_choices(params, answer, field)
    if request_type == RequestType.FREE_TEXT:
        return _answer_text(params, answer, field)
    if request_type == RequestType.RATING:
        return _answer_rating(params, answer, field)
    if request_type in MEDIA_ANSWER_TYPES:
        if not isinstance(answer, str) or not is_http_url(answer):
            raise InvalidParams(field, "must be the URL of the uploaded file")
        return answer
    return _answer_annotations(request_type, params, answer, field)


def answer_clean(request_type: str, params: dict, answer: Any) -> Any:
    """The answer in its stored form, or InvalidParams."""
    return _answer_for(request_type, params, answer, "response")


def answer_key(request_type: str, answer: Any) -> str:
    """What two answers share when they agree: multi-answer choices and annotation lists are
    compared regardless of order."""

    def canonical(value: Any) -> Any:
        if isinstance(value, list):
            items = [canonical(item) for item in value]
            return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
        if isinstance(value, dict):
            return {key: canonical(item) for key, item in value.items()}
        if isinstance(value, str) and request_type in (RequestType.FREE_TEXT,):
            return value.strip().casefold()
        return value

    return json.dumps(canonical(answer), sort_keys=True)
