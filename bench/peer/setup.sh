#!/usr/bin/env bash
# The peer of the scenario runner API: algomancy-api 0.10.0 (FastAPI + uvicorn) in a virtualenv
# of its own, outside the repo, so that nothing of it reaches the portal's .venv.
#
#   bash bench/peer/setup.sh                 # /work/peer-venv
#   PEER_VENV=/tmp/peer bash bench/peer/setup.sh
#
# algomancy-api declares Python >= 3.14; pyenv's 3.13 runs it once its few Python-3.14-only
# `except A, B:` clauses are rewritten as `except (A, B):` and algomancy_utils/unit.py gets
# `from __future__ import annotations` (issue 11). pip is told to ignore the declared Python
# version for that reason. Idempotent: a second run changes nothing. Also makes sure `wrk`
# (the load generator of bench/runner_bench.py) is installed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEER_VENV="${PEER_VENV:-/work/peer-venv}"
PEER_PYTHON="${PEER_PYTHON:-/root/.pyenv/versions/3.13.0/bin/python}"

if ! command -v wrk >/dev/null 2>&1; then
    echo "installing wrk (apt)"
    apt-get update -qq && apt-get install -y -qq wrk
fi
command -v wrk >/dev/null

if [ ! -x "$PEER_VENV/bin/python" ]; then
    "$PEER_PYTHON" -m venv "$PEER_VENV"
fi
if [ ! -f "$PEER_VENV/.installed" ]; then
    "$PEER_VENV/bin/pip" install -q --upgrade pip
    # --ignore-requires-python: the packages declare >= 3.14 (see above).
    "$PEER_VENV/bin/pip" install -q --ignore-requires-python -r "$HERE/requirements.txt"
    touch "$PEER_VENV/.installed"
fi

"$PEER_VENV/bin/python" "$HERE/patch_peer.py"
"$PEER_VENV/bin/python" -c "import algomancy_api" && echo "peer ready: $PEER_VENV"
