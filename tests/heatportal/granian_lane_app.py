"""An ASGI application for tests/heatportal/test_lanes.py, served by a real granian process:
heatportal.lanes.WSGILane around a small WSGI app (granian's receive/send are not coroutines;
uvicorn's are). POST: the body's size and sha256. GET: a streamed response of ?chunks=N."""

import hashlib
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

from heatportal.lanes import WSGILane


class Streaming(list):
    streaming = True


def wsgi(environ, start_response):
    if environ["REQUEST_METHOD"] == "POST":
        digest, size, stream = hashlib.sha256(), 0, environ["wsgi.input"]
        while chunk := stream.read(65536):
            digest.update(chunk)
            size += len(chunk)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{size} {digest.hexdigest()}".encode()]
    chunks = int(parse_qs(environ["QUERY_STRING"]).get("chunks", ["3"])[0])
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return Streaming(bytes([n % 256]) * 100_000 for n in range(chunks))


application = WSGILane(wsgi, ThreadPoolExecutor(4))
