"""Answers of the simulated crunchers that serve ``test_`` keys: valid, of the right shape.

With majority voting the robots agree the way the document's example shows: the first answer
is the agreed one, the second (when ``max_crunchers`` leaves room) dissents, the rest agree.
"""

from __future__ import annotations

import random
from typing import Any

from django.conf import settings
from django.templatetags.static import static

from crowd_app.models import RequestType
from crowd_app.validation import ANNOTATION_KINDS

SAMPLE_MEDIA: dict[str, str] = {
    RequestType.IMAGE: "crowd_app/staging/sample.png",
    RequestType.VIDEO: "crowd_app/staging/sample.webm",
    RequestType.AUDIO: "crowd_app/staging/sample.wav",
}


def _public_url(path: str) -> str:
    return settings.CROWD_PUBLIC_URL.rstrip("/") + static(path)


def _choices(params: dict, rng: random.Random) -> list[str]:
    """As many choices as the minimum asks (one by default, as in the document's examples)."""
    choices = params["choices"]
    picked = set(rng.sample(choices, params.get("min_answers", 1)))
    return [choice for choice in choices if choice in picked]


def _text(params: dict, rng: random.Random) -> str:
    if params.get("validation") == "number":
        return str(rng.randint(0, 1000))
    if params.get("validation") == "url":
        return f"https://example.com/staging/{rng.randint(1, 10**6)}"
    return rng.choice(["hello world", "staging answer", "looks fine", "42"])


def _rating(params: dict, rng: random.Random) -> int | float:
    low, high, step = params["rating_min"], params["rating_max"], params["rating_step"]
    steps = int((high - low) // step)
    value = low + rng.randint(0, steps) * step
    return int(value) if float(value).is_integer() else round(value, 10)


def simulated_answer(request_type: str, params: dict[str, Any], rng: random.Random) -> Any:
    if request_type == RequestType.MULTIPLE_CHOICE:
        return _choices(params, rng)
    if request_type == RequestType.FREE_TEXT:
        return _text(params, rng)
    if request_type == RequestType.RATING:
        return _rating(params, rng)
    if request_type in SAMPLE_MEDIA:
        return _public_url(SAMPLE_MEDIA[request_type])
    count = max(params.get("min_annotations", 1), min(3, params.get("max_annotations") or 3))
    return [_annotation(request_type, params, rng) for _ in range(count)]


def _annotation(request_type: str, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One annotation of an ``annotations*`` request, with its inner answer when it has one."""
    inner = ANNOTATION_KINDS[request_type]
    media = params.get("attachments_type", "text")
    item: dict[str, Any] = {}
    if media != "audio":
        item["x"], item["y"] = rng.randint(0, 600), rng.randint(0, 400)
        if params.get("annotations_type") == "rectangle":
            item["x2"], item["y2"] = item["x"] + rng.randint(10, 200), item["y"] + rng.randint(10, 200)
    if media in ("video", "audio"):
        item["t"] = rng.randint(0, 60)
    if len(params.get("attachments", [])) > 1:
        item["attachment_index"] = rng.randrange(len(params["attachments"]))
    if inner is not None:
        item["response"] = simulated_answer(inner, params["per_annotation"], rng)
    return item


def simulated_answers(
    request_type: str, params: dict, *, min_agreements: int, max_crunchers: int, seed: str
) -> list:
    """Enough answers, in order, to complete the request."""
    rng = random.Random(seed)
    agreed = simulated_answer(request_type, params, rng)
    answers = [agreed]
    if max_crunchers > min_agreements:
        dissent = agreed
        for _ in range(20):
            dissent = simulated_answer(request_type, params, rng)
            if dissent != agreed:
                break
        answers.append(dissent)
    answers += [agreed] * (min_agreements - 1)
    return answers
