import json

from django.test import Client

from crowd_app.services import request_create


class CrowdClient:
    def __init__(self, key: str | None):
        self.client = Client()
        self.key = key

    def _headers(self):
        return {"X-Heat-API-Key": self.key} if self.key else {}

    def post(self, path, body=None, **extra):
        data = body if isinstance(body, (str, bytes)) else json.dumps(body) if body is not None else ""
        return self.client.post(
            path, data=data, content_type="application/json", headers=self._headers(), **extra
        )

    def get(self, path, **extra):
        return self.client.get(path, headers=self._headers(), **extra)


def new_request(api_key, request_type, **body):
    """A request of ``request_type`` made through the services, with an instruction."""
    return request_create(api_key=api_key, request_type=request_type, body={"instruction": "Do it", **body})
