import json

from django.test import Client


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
