API = "/api/v1"


def create_scenario(api, sid="main", **body):
    payload = {"tag": "run", "dataset_key": "Master data", "algo_name": "Slow", **body}
    response = api.post(f"{API}/sessions/{sid}/scenarios", payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()
