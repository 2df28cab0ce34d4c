"""Helpers of the scenario runner's tests (used by several test modules)."""

from scenarios_app.datasets import master_profile_rows

API = "/api/v1"
HEADER = ["timestamp", "load_kw", "pv_kw", "price_eur_per_kwh"]


def create_scenario(api, sid="main", **body):
    payload = {"tag": "run", "dataset_key": "Master data", "algo_name": "Slow", **body}
    response = api.post(f"{API}/sessions/{sid}/scenarios", payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def profile_csv(rows=None, header=HEADER) -> bytes:
    """A ``profile.csv`` upload: a day of ``Master data`` unless ``rows`` are given."""
    rows = rows if rows is not None else list(master_profile_rows(days=1))
    lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()
