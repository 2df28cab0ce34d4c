"""A SKETCH, for the benchmark only: the server does not use it.

The change that bench/upload_bench.py's findings point to, runnable so its effect can be
measured without touching the server code:

    .venv/bin/python bench/upload_bench.py --app bench.streaming_asgi_sketch:application

Django 5.2's ``ASGIHandler.handle`` awaits ``read_body``, which writes the whole request body
to a ``SpooledTemporaryFile`` (on disk past 2.5 MiB) before the request object exists. Only
then does the view run and copy that file to the storage. For the raw upload route this
handler subclass hands the view the body as it arrives instead: a pump task receives ASGI
messages in the event loop and queues 1 MiB pieces (at most ``PIECES_AHEAD`` of them) for the
view's thread, whose ``request.read()`` takes them off the queue. Every other request goes
through Django's own path unchanged. Nothing in the view or the service changes:
``_body_chunks`` already reads the raw body as a stream.

Not production-ready as it stands: it has no tests, and a client that disconnects mid-body
makes the view's read raise ``RequestAborted`` (a 500 in the log; ``node_output_create`` still
deletes the partial file).
"""

from __future__ import annotations

import asyncio
import os
import queue
import re

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heatportal.settings.base")

import django
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler

STREAMED_PATH = re.compile(r"^/api/v2/node_instances/\d+/outputs$")
PIECE = 1024 * 1024
PIECES_AHEAD = 8  # what the pump may receive ahead of the view: about 8 MiB of memory


class BodyPump:
    """Receives the body in the event loop as fast as it comes (up to ``PIECES_AHEAD`` pieces
    ahead) and gives it to the view's thread as a file object (``read``)."""

    def __init__(self, receive):
        self._receive = receive
        self._pieces: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()  # b"": end; None: gone
        self._free = asyncio.Semaphore(PIECES_AHEAD)
        self._loop = asyncio.get_running_loop()
        self._buffer = b""
        self._ended = False
        self._finished = asyncio.Event()
        self._task = asyncio.create_task(self._pump())

    async def __call__(self):
        """The receive callable left to Django (its listen_for_disconnect): the body's
        messages are the pump's, so it waits until the pump has taken the last of them."""
        await self._finished.wait()
        return await self._receive()

    async def _pump(self) -> None:
        piece = bytearray()
        try:
            while True:
                message = await self._receive()
                if message["type"] == "http.disconnect":
                    self._pieces.put(None)
                    return
                piece += message.get("body", b"")
                more = message.get("more_body", False)
                if len(piece) >= PIECE or (piece and not more):
                    await self._free.acquire()
                    self._pieces.put(bytes(piece))
                    piece = bytearray()
                if not more:
                    self._pieces.put(b"")
                    return
        finally:
            self._finished.set()

    def read(self, size: int = -1) -> bytes:
        """Called in the view's thread (``request.read`` -> ``request._stream.read``)."""
        parts, have = [self._buffer], len(self._buffer)
        while not self._ended and (size < 0 or have < size):
            piece = self._pieces.get()
            if piece is None:
                raise RequestAborted()
            if not piece:
                self._ended = True
                break
            self._loop.call_soon_threadsafe(self._free.release)
            parts.append(piece)
            have += len(piece)
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        if size < 0 or size >= len(data):
            self._buffer = b""
            return data
        self._buffer = data[size:]
        return data[:size]

    def close(self) -> None:
        self._task.cancel()


def streams_body(scope) -> bool:
    if scope.get("method") != "POST" or not STREAMED_PATH.match(scope.get("path", "")):
        return False
    headers = dict(scope.get("headers", []))
    return not headers.get(b"content-type", b"").lower().startswith(b"multipart/")


class StreamingUploadASGIHandler(ASGIHandler):
    async def handle(self, scope, receive, send):
        await super().handle(scope, BodyPump(receive) if streams_body(scope) else receive, send)

    async def read_body(self, receive):
        if isinstance(receive, BodyPump):
            return receive  # no spool: the view reads the body while it arrives
        return await super().read_body(receive)


django.setup(set_prefix=False)
application = StreamingUploadASGIHandler()
