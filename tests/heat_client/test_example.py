"""The example script runs the documented workflow end to end against a live portal."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sessions_app.models import NodeOutput, Session
from tests.factories import PASSWORD

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "heat_upload_example.py"

pytestmark = pytest.mark.django_db(transaction=True)


def run_example(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HEAT_")}
    return subprocess.run(
        [sys.executable, str(EXAMPLE)], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_the_example_connects_uploads_verifies_and_closes(live_url, token, project):
    result = run_example(HEAT_BASE_URL=live_url, HEAT_TOKEN=token, HEAT_CONFIG_PREFIX="public_api_v1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("Success")
    session = Session.objects.get(project=project)
    assert session.closed_at is not None
    output = NodeOutput.objects.get(node_instance__session=session)
    assert output.size > 0


def test_the_example_signs_in_with_a_password(live_url, api_user, project):
    result = run_example(HEAT_BASE_URL=live_url, HEAT_USERNAME=api_user.username, HEAT_PASSWORD=PASSWORD)

    assert result.returncode == 0, result.stderr


def test_the_example_explains_a_missing_base_url_and_exits_1():
    result = run_example(HEAT_TOKEN="hat_x")

    assert result.returncode == 1
    assert "No HEAT base URL" in result.stderr
