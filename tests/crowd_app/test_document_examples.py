"""Every curl example of document 004, run verbatim (only the host changed) with the sample test
key against the portal served by uvicorn, with demo data and a real worker."""

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from crowd_app.demo import SAMPLE_REQUEST_ID, seed_crowd
from crowd_app.validation import answer_clean

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DOCUMENT = Path(os.environ.get("CROWD_DOCUMENT", "/work/shared/seeds/004_a563dd3e73780b2a.txt"))


def curl_examples() -> list[str]:
    """The curl commands of the document: from ``curl`` to the line before the Node example."""
    commands, current = [], None
    for line in DOCUMENT.read_text().splitlines():
        if line.startswith("curl "):
            current = [line]
        elif current is not None:
            if line.startswith("var heat") or not line.strip():
                commands.append("\n".join(current))
                current = None
            else:
                current.append(line)
    return commands


EXAMPLES = curl_examples() if DOCUMENT.exists() else []


@pytest.mark.skipif(not DOCUMENT.exists(), reason="document 004 is not available here")
def test_the_document_has_the_examples_we_expect():
    assert len(EXAMPLES) == 18
    assert sum("-X POST" in command for command in EXAMPLES) == 1


@pytest.mark.parametrize("command", EXAMPLES, ids=[f"example-{n}" for n in range(len(EXAMPLES))])
def test_document_example_runs_verbatim(command, live_url, celery_worker, admin_user):
    seed_crowd()
    local = command.replace("https://api.heatintelligence.com", live_url)
    # The document's annotations-with-free-text example puts "What's" inside a single-quoted
    # shell word, which no shell can run; quote the apostrophe the shell way (docs/crowd_app.md).
    local = local.replace("What's", "What'\\''s")
    args = shlex.split(local.replace("\\\n", " "))
    reply = subprocess.run([*args, "-s", "-w", "\n%{http_code}"], capture_output=True, text=True, timeout=60)
    body, _, status = reply.stdout.rpartition("\n")
    data = json.loads(body)

    if "/tasks/abort/" in command:
        # The sample request is complete: CONTRACT §5 answers 400 {"success": false, ...}.
        assert status == "400" and data["success"] is False
        return
    assert status == "200", body
    assert data["status"] == "complete", data
    if SAMPLE_REQUEST_ID in command:
        assert data["id"] == SAMPLE_REQUEST_ID
        assert data["response"] == ["no violence"]
    request_type = data["type"]
    server_fields = ("id", "status", "response", "raw_responses", "crunchers")
    params = {k: v for k, v in data.items() if k not in server_fields}
    if data["response"] is not None:
        assert answer_clean(request_type, params, data["response"]) == data["response"]
    assert re.fullmatch(r"[0-9a-f-]{36}", data["id"])
