"""Document 003's polling example, as written, with only a bearer token added.

    HEAT_TOKEN=$(.venv/bin/python manage.py issue_token admin) \
    HEAT_API_BASE=http://127.0.0.1:8005/api/v1 .venv/bin/python examples/scenario_polling_example.py

HEAT_API_BASE defaults to the document's address. The tag is the document's ("my-run"), so the
example runs once per session; delete the scenario (or the session) to run it again.
"""

import os
import time

import httpx

headers = {"Authorization": f"Bearer {os.environ['HEAT_TOKEN']}"}  # the one addition
base = os.environ.get("HEAT_API_BASE", "http://127.0.0.1:8051/api/v1")
session = httpx.get(f"{base}/sessions", headers=headers).json()["default"]

scenario = httpx.post(
    f"{base}/sessions/{session}/scenarios",
    json={"tag": "my-run", "dataset_key": "Master data", "algo_name": "Slow", "algo_params": {"duration": 5}},
    headers=headers,
).json()

httpx.post(f"{base}/sessions/{session}/scenarios/{scenario['id']}/run", headers=headers)

while True:
    s = httpx.get(f"{base}/sessions/{session}/scenarios/{scenario['id']}/status", headers=headers).json()
    if s["status"] in ("complete", "failed"):
        break
    time.sleep(0.5)

result = httpx.get(f"{base}/sessions/{session}/scenarios/{scenario['id']}", headers=headers).json()
print(result["kpis"])
