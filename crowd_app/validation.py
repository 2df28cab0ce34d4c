"""What a request body and a cruncher's answer may contain, per request type (document 004).

``request_params_clean`` turns a client's body into the params that are stored and echoed back,
with the documented defaults filled in and unknown fields kept. ``answer_clean`` checks one
answer against its request. Both raise :class:`InvalidParams` naming the offending field.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from crowd_app.models import RequestType

MEDIA_TYPES = ("text", "image", "video", "audio", "website")
ANNOTATION_TYPES = ("point", "rectangle")
VALIDATIONS = ("number", "url")
ANNOTATION_KINDS = {
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


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _string(body: dict, field: str, *, required: bool = False, prefix: str = "") -> str | None:
    value = body.get(field)
    if value is None:
        if required:
            raise InvalidParams(prefix + field, "this field is required")
        return None
    if not isinstance(value, str):
        raise InvalidParams(prefix + field, "must be a string")
    if required and not value.strip():
        raise InvalidParams(prefix + field, "may not be blank")
    if len(value) > settings.CROWD_MAX_TEXT_LENGTH:
        raise InvalidParams(prefix + field, f"must be at most {settings.CROWD_MAX_TEXT_LENGTH} characters")
    return value


def _choice(body: dict, field: str, options: tuple[str, ...], default: str, prefix: str = "") -> str:
    value = body.get(field)
    if value is None:
        return default
    if value not in options:
        raise InvalidParams(prefix + field, f"must be one of {', '.join(options)}")
    return value


def _int(body: dict, field: str, default: int | None, *, minimum: int = 0, prefix: str = "") -> int | None:
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not _is_int(value):
        raise InvalidParams(prefix + field, "must be an integer")
    if value < minimum:
        raise InvalidParams(prefix + field, f"must be at least {minimum}")
    return value


def _strings(values: Any, field: str, media_type: str, *, limit: int) -> list[str]:
    if not isinstance(values, list):
        raise InvalidParams(field, "must be an array of strings")
    if len(values) > limit:
        raise InvalidParams(field, f"at most {limit} items are allowed")
    max_length = settings.CROWD_MAX_ATTACHMENT_LENGTH
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise InvalidParams(f"{field}[{index}]", "must be a non-empty string")
        if len(value) > max_length:
            raise InvalidParams(f"{field}[{index}]", f"must be at most {max_length} characters")
        if media_type != "text" and not is_http_url(value):
            raise InvalidParams(f"{field}[{index}]", f"must be an http(s) URL for type {media_type}")
    return values


def _multiple_choice(body: dict, out: dict, prefix: str = "") -> None:
    out["choices_type"] = _choice(body, "choices_type", MEDIA_TYPES, "text", prefix)
    if body.get("choices") is None:
        raise InvalidParams(prefix + "choices", "this field is required")
    choices = _strings(
        body["choices"], prefix + "choices", out["choices_type"], limit=settings.CROWD_MAX_CHOICES
    )
    if not choices:
        raise InvalidParams(prefix + "choices", "must not be empty")
    if len(set(choices)) != len(choices):
        raise InvalidParams(prefix + "choices", "must not repeat a choice")
    out["choices"] = choices
    out["min_answers"] = _int(body, "min_answers", 1, minimum=1, prefix=prefix)
    out["max_answers"] = _int(body, "max_answers", 0, minimum=0, prefix=prefix)
    if out["min_answers"] > len(choices):
        raise InvalidParams(prefix + "min_answers", "must not exceed the number of choices")
    if out["max_answers"] and out["min_answers"] > out["max_answers"]:
        raise InvalidParams(prefix + "min_answers", "must not exceed max_answers")


def _free_text(body: dict, out: dict, prefix: str = "") -> None:
    if body.get("validation") is not None:
        out["validation"] = _choice(body, "validation", VALIDATIONS, "", prefix)


def _rating(body: dict, out: dict, prefix: str = "") -> None:
    for field, default in (("rating_min", 0), ("rating_max", 100), ("rating_step", 1)):
        value = body.get(field, default)
        if value is None:
            value = default
        if not _is_number(value):
            raise InvalidParams(prefix + field, "must be a number")
        out[field] = value
    if out["rating_min"] >= out["rating_max"]:
        raise InvalidParams(prefix + "rating_max", "must be greater than rating_min")
    if out["rating_step"] <= 0:
        raise InvalidParams(prefix + "rating_step", "must be greater than 0")
    if out["rating_step"] > out["rating_max"] - out["rating_min"]:
        raise InvalidParams(prefix + "rating_step", "must not exceed rating_max - rating_min")
    for field in ("label_min", "label_max"):
        value = _string(body, field, prefix=prefix)
        if value is not None:
            out[field] = value


def request_params_clean(request_type: str, body: Any) -> dict:
    """The params to store and echo for a new request of ``request_type``."""
    if not isinstance(body, dict):
        raise InvalidParams("body", "must be a JSON object")
    out: dict[str, Any] = {}
    out["instruction"] = _string(body, "instruction", required=True)
    out["attachments_type"] = _choice(body, "attachments_type", MEDIA_TYPES, "text")
    out["attachments"] = _strings(
        body.get("attachments") if body.get("attachments") is not None else [],
        "attachments",
        out["attachments_type"],
        limit=settings.CROWD_MAX_ATTACHMENTS,
    )
    if request_type == RequestType.MULTIPLE_CHOICE:
        _multiple_choice(body, out)
    elif request_type == RequestType.FREE_TEXT:
        _free_text(body, out)
    elif request_type == RequestType.RATING:
        _rating(body, out)
    elif request_type in ANNOTATION_KINDS:
        if not out["attachments"]:
            raise InvalidParams("attachments", "annotations need at least one attachment")
        out["annotations_type"] = _choice(body, "annotations_type", ANNOTATION_TYPES, "point")
        out["min_annotations"] = _int(body, "min_annotations", 1, minimum=0)
        max_annotations = _int(body, "max_annotations", None, minimum=1)
        if max_annotations is not None:
            if max_annotations < out["min_annotations"]:
                raise InvalidParams("max_annotations", "must not be less than min_annotations")
            out["max_annotations"] = max_annotations
        inner = ANNOTATION_KINDS[request_type]
        if inner is not None:
            per = body.get("per_annotation")
            if per is None:
                raise InvalidParams("per_annotation", "this field is required")
            if not isinstance(per, dict):
                raise InvalidParams("per_annotation", "must be an object")
            per_out: dict[str, Any] = {
                "instruction": _string(per, "instruction", required=True, prefix="per_annotation.")
            }
            {
                RequestType.MULTIPLE_CHOICE: _multiple_choice,
                RequestType.FREE_TEXT: _free_text,
                RequestType.RATING: _rating,
            }[inner](per, per_out, "per_annotation.")
            out["per_annotation"] = {**per, **per_out}

    hook_url = body.get("hook_url")
    if hook_url is not None:
        if not isinstance(hook_url, str) or not is_http_url(hook_url) or len(hook_url) > 2000:
            raise InvalidParams("hook_url", "must be an http(s) URL")
        out["hook_url"] = hook_url
    excluded = body.get("exclude_crunchers")
    if excluded is not None:
        if not isinstance(excluded, list) or not all(isinstance(item, str) for item in excluded):
            raise InvalidParams("exclude_crunchers", "must be an array of cruncher ids")
        out["exclude_crunchers"] = excluded
    confidence = body.get("confidence")
    if confidence is not None:
        if not isinstance(confidence, dict):
            raise InvalidParams("confidence", "must be an object")
        if confidence.get("strategy", "majority") != "majority":
            raise InvalidParams("confidence.strategy", 'only "majority" is supported')
        min_agreements = _int(confidence, "min_agreements", 2, minimum=1, prefix="confidence.")
        max_crunchers = _int(
            confidence, "max_crunchers", max(min_agreements, 3), minimum=1, prefix="confidence."
        )
        if max_crunchers < min_agreements:
            raise InvalidParams("confidence.max_crunchers", "must not be less than min_agreements")
        if max_crunchers > settings.CROWD_MAX_CRUNCHERS:
            raise InvalidParams("confidence.max_crunchers", f"must be at most {settings.CROWD_MAX_CRUNCHERS}")
        out["confidence"] = {
            **confidence,
            "strategy": "majority",
            "min_agreements": min_agreements,
            "max_crunchers": max_crunchers,
        }
    # Fields beyond the documented ones are kept and echoed (CONTRACT §5); ours win on clashes.
    # A documented field sent as null is absent, not another field to echo.
    extra = {
        key: value
        for key, value in body.items()
        if key not in out and key not in _RESERVED and not (value is None and key in _DOCUMENTED)
    }
    params = {**extra, **out}
    if len(json.dumps(params)) > settings.CROWD_MAX_PARAMS_BYTES:
        raise InvalidParams("body", f"must be at most {settings.CROWD_MAX_PARAMS_BYTES} bytes")
    return params


# Server-owned fields of the Request object: a client cannot set them.
_RESERVED = {"id", "status", "response", "raw_responses", "crunchers", "type"}
# The request fields document 004 defines, over all types.
_DOCUMENTED = {
    "instruction", "attachments_type", "attachments", "hook_url", "exclude_crunchers", "confidence",
    "choices_type", "choices", "min_answers", "max_answers", "validation", "rating_min", "rating_max",
    "rating_step", "label_min", "label_max", "annotations_type", "min_annotations", "max_annotations",
    "per_annotation",
}  # fmt: skip


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
    if not _is_number(answer):
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
    value = item.get(key)
    if not _is_number(value) or value < 0:
        raise InvalidParams(f"{field}.{key}", "must be a non-negative number")
    return int(value) if float(value).is_integer() else value


def _answer_annotations(request_type: str, params: dict, answer: Any, field: str) -> list[dict]:
    if not isinstance(answer, list):
        raise InvalidParams(field, "must be a list of annotations")
    minimum, maximum = params.get("min_annotations", 1), params.get("max_annotations")
    if len(answer) < minimum:
        raise InvalidParams(field, f"mark at least {minimum}")
    if maximum and len(answer) > maximum:
        raise InvalidParams(field, f"mark at most {maximum}")
    inner = ANNOTATION_KINDS[request_type]
    media = params.get("attachments_type", "text")
    cleaned = []
    for index, item in enumerate(answer):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            raise InvalidParams(where, "must be an object")
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
        cleaned.append(out)
    return cleaned


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
