"""Output builders of the crowd API: the Request object of document 004.

Also what webhooks deliver and blocked clients receive, so that every way a client learns of a
request gives the same body.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crowd_app.models import CrowdRequest


def request_output(
    *,
    request_id: str,
    status: str,
    request_type: str,
    params: dict[str, Any],
    response: Any,
    answers: Iterable[tuple[str, Any]],
) -> dict[str, Any]:
    """id, status, the response and who answered once complete (``answers``: cruncher id and
    answer, in answering order), then the type and every parameter as stored."""
    body: dict[str, Any] = {"id": request_id, "status": status}
    if status == CrowdRequest.Status.COMPLETE:
        answers = list(answers)
        body["response"] = response
        body["raw_responses"] = {cruncher_id: answer for cruncher_id, answer in answers}
        body["crunchers"] = [cruncher_id for cruncher_id, _answer in answers]
    body["type"] = request_type
    body.update(params)
    return body


def request_json(crowd_request: CrowdRequest) -> dict[str, Any]:
    """The Request object of a loaded request (its answers prefetched with their crunchers)."""
    return request_output(
        request_id=str(crowd_request.pk),
        status=crowd_request.status,
        request_type=crowd_request.type,
        params=crowd_request.params,
        response=crowd_request.response,
        answers=(
            (answer.cruncher.cruncher_id, answer.response)
            for answer in (crowd_request.answers.all() if crowd_request.status == "complete" else ())
        ),
    )


def abort_output(*, error: str | None) -> dict[str, Any]:
    return {"success": True} if error is None else {"success": False, "message": error}
