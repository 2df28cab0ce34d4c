"""How the web process runs Django: three lanes behind one ASGI application (docs/decisions.md,
"Server").

Django's own ASGI handler gives every request a thread of its own for the synchronous parts
(a new thread per request, and so a new database connection per request) and runs the whole
middleware chain on every path. Measured on this project, that was most of what an API request
cost. So :func:`application` sends each request down one of three lanes:

- **async API lane** (``ASYNC_API_PREFIXES``, the crowd API): Django's ASGI handler without
  its thread per request (:class:`LeanASGIHandler`) with the API middleware only; its views
  do their database work in one trip to the shared pool, and its blocking polls wait on an
  asyncio event, holding no thread;
- **API lane** (every other API path, :func:`heatportal.api.errors.family_for_path`): Django's
  WSGI handler with the API middleware only (``API_MIDDLEWARE``: no sessions, CSRF, messages;
  API views authenticate themselves), run on the process's pool of ``WEB_THREADS`` threads
  (:mod:`heatportal.threads`: quick requests run one after another on one warm thread; another
  is woken when the running ones are blocked), so threads and their connections are reused;
- **pages lane** (everything else): the same, with the full ``MIDDLEWARE``.

A request body up to ``INLINE_BODY_MAX`` bytes is read on the event loop before the request
is handed to a thread; a larger one (a node-output upload of a gigabyte) is streamed to the
view as it reads it; one of unknown length (chunked) is spooled first, to a file beyond
``FILE_UPLOAD_MAX_MEMORY_SIZE``, as Django's ASGI handler does, since Django needs its
length. A response is sent in one piece unless it streams (file downloads, CSV exports), in
which case each chunk is sent as the view yields it.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIHandler, get_script_name
from django.urls import set_script_prefix
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

INLINE_BODY_MAX = 256 * 1024


class _MiddlewareOf(BaseHandler):
    """A Django handler that loads the middleware list named by ``middleware_setting``.

    Django's handlers read ``settings.MIDDLEWARE`` once, when they are made; this swaps the list
    in for that moment (at start-up, before any request)."""

    middleware_setting = "MIDDLEWARE"

    def load_middleware(self, is_async: bool = False) -> None:
        saved = settings.MIDDLEWARE
        settings.MIDDLEWARE = getattr(settings, self.middleware_setting)
        try:
            super().load_middleware(is_async=is_async)
        finally:
            settings.MIDDLEWARE = saved


# What Django connects to ``request_started``: reset_queries (DEBUG only) and
# close_old_connections, which ``request_finished`` already ran at the end of the thread's
# previous request (connections are per thread here, and not checked while idle). The API
# handlers skip the signal; tests/heatportal/test_lanes.py fails when anything else connects.
DJANGO_REQUEST_STARTED = ("reset_queries", "close_old_connections")


class ApiWSGIHandler(_MiddlewareOf, WSGIHandler):
    """Django's WSGI handler with the API middleware, without ``request_started`` (see
    DJANGO_REQUEST_STARTED): ~20 us of a request that costs ~160 us in it. Otherwise
    Django's ``WSGIHandler.__call__``: API responses set no cookies and stream no files
    through ``wsgi.file_wrapper`` (WSGILane relays streamed ones chunk by chunk)."""

    middleware_setting = "API_MIDDLEWARE"

    def __call__(self, environ, start_response):
        set_script_prefix(get_script_name(environ))
        request = self.request_class(environ)
        response = self.get_response(request)
        response._handler_class = self.__class__
        status = f"{response.status_code} {response.reason_phrase}"
        response_headers = [
            *response.items(),
            *(("Set-Cookie", cookie.output(header="")) for cookie in response.cookies.values()),
        ]
        start_response(status, response_headers)
        return response


class LeanASGIHandler(ASGIHandler):
    """Django's ASGI handler without a thread per request.

    Django's own wraps every request in a ``ThreadSensitiveContext`` and runs the
    ``request_started``/``request_finished`` receivers and ``response.close()`` through
    thread-sensitive ``sync_to_async``: a new thread per request (and its start-up) for work
    that, here, does nothing a thread is needed for. The receivers are Django's
    ``reset_queries``, ``close_old_connections`` and ``close_caches``: they act on the database
    connections and cache clients *of the thread they run on*, and the event loop's thread has
    none (the ORM refuses to run there; views do their database work with
    :func:`heatportal.db.db_call` on the shared pool, which gives connections back itself), so
    this handler runs them, and ``response.close()``, right on the event loop. Everything else
    is Django's: the body read, the request, the middleware chain, and a client's disconnect
    cancelling the view (a blocking poll stops waiting).

    A synchronous view or receiver on this lane would run on asgiref's one shared thread
    (thread-sensitive ``sync_to_async`` outside a ``ThreadSensitiveContext``): the lane is for
    async views; the crowd API has no other.
    """

    request_started = True  # send Django's request_started signal

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        if self.request_started:
            signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            error_response.close()
            return

        async def process_request(request, send):
            response = await self.run_get_response(request)
            with contextlib.suppress(asyncio.CancelledError):  # the client went away meanwhile
                await self.send_response(response, send)
            return response

        # As Django's: the view is cancelled when the client disconnects first.
        listener = asyncio.create_task(self.listen_for_disconnect(receive))
        view = asyncio.create_task(process_request(request, send))
        await self._first_of((listener, view), body_file)
        try:
            response = view.result()
        except asyncio.CancelledError:
            signals.request_finished.send(sender=self.__class__)
        else:
            response.close()  # fires request_finished
        body_file.close()

    @staticmethod
    async def _first_of(tasks: tuple[asyncio.Task[Any], ...], body_file: Any) -> None:
        """Wait for the first of ``tasks`` to finish and cancel the others, as Django does."""
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def read_body(self, receive):
        """The body, in memory when it came in one message (an API call's JSON); else spooled
        as Django does (to a file beyond ``FILE_UPLOAD_MAX_MEMORY_SIZE``)."""
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RequestAborted()
        if not message.get("more_body", False):
            return io.BytesIO(message.get("body", b""))
        body_file = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b")  # noqa: SIM115
        body_file.write(message.get("body", b""))
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                body_file.close()
                raise RequestAborted()
            body_file.write(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body_file.seek(0)
        return body_file


class ApiASGIHandler(_MiddlewareOf, LeanASGIHandler):
    """The async API lane: without ``request_started`` either (DJANGO_REQUEST_STARTED)."""

    middleware_setting = "API_MIDDLEWARE"
    request_started = False


class StreamedBody(io.RawIOBase):
    """``wsgi.input`` of a large body: read from the ASGI ``receive`` as the view asks."""

    def __init__(self, loop: asyncio.AbstractEventLoop, receive: Any):
        self.loop, self.receive = loop, receive
        self.buffer = bytearray()
        self.more = True

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        message = _on_loop(self.loop, self.receive)
        if message["type"] == "http.disconnect":
            raise OSError("the client went away")
        self.buffer += message.get("body", b"")
        self.more = message.get("more_body", False)

    def read(self, size: int = -1) -> bytes:
        while self.more and (size < 0 or len(self.buffer) < size):
            self._fill()
        size = len(self.buffer) if size < 0 else min(size, len(self.buffer))
        chunk = bytes(self.buffer[:size])
        del self.buffer[:size]
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        size = -1 if size is None else size
        while self.more and b"\n" not in self.buffer and (size < 0 or len(self.buffer) < size):
            self._fill()
        end = self.buffer.find(b"\n") + 1 or len(self.buffer)
        return self.read(end if size < 0 else min(end, size))


def _environ(scope: dict, body: Any) -> dict:
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ = {
        "REQUEST_METHOD": scope["method"],
        # WSGI carries the path's bytes as latin-1 text; ASGI gives it decoded (UTF-8).
        "SCRIPT_NAME": scope.get("root_path", "").encode().decode("latin-1"),
        "PATH_INFO": scope["path"].encode().decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        if name == "content-length":
            key = "CONTENT_LENGTH"
        elif name == "content-type":
            key = "CONTENT_TYPE"
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


class WSGILane:
    """An ASGI application that runs a Django WSGI handler on a fixed pool of threads."""

    def __init__(self, handler: WSGIHandler, executor: ThreadPoolExecutor):
        self.handler, self.executor = handler, executor

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        loop = asyncio.get_running_loop()
        length = _content_length(scope)
        if length is None:  # chunked: Django needs a length, so the body is spooled first
            body, length = await _spool_body(receive)
        elif length <= INLINE_BODY_MAX:
            body = io.BytesIO(await _read_body(receive))
        else:
            body = StreamedBody(loop, receive)
        environ = _environ(scope, body)
        environ["CONTENT_LENGTH"] = str(length)
        try:
            start, content = await loop.run_in_executor(self.executor, self._run, environ, loop, send)
        finally:
            body.close()
        if start is not None:  # not streamed: the whole response at once
            await send(start)
            await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else content})

    def _run(self, environ: dict, loop: asyncio.AbstractEventLoop, send: Any):
        started: dict = {}

        def start_response(status: str, headers: list, exc_info: Any = None):
            started["message"] = {
                "type": "http.response.start",
                "status": int(status[:3]),
                "headers": [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers],
            }

        response = self.handler(environ, start_response)
        try:
            if not getattr(response, "streaming", False):
                return started["message"], b"".join(response)

            def relay(message: dict) -> None:
                _on_loop(loop, send, message)

            relay(started["message"])
            for chunk in response:
                if chunk:
                    relay({"type": "http.response.body", "body": chunk, "more_body": True})
            relay({"type": "http.response.body", "body": b""})
            return None, b""
        finally:
            if hasattr(response, "close"):  # Django's request_finished: connections tidied, files closed
                response.close()


def _on_loop(loop: asyncio.AbstractEventLoop, fn: Any, *args: Any) -> Any:
    """Await ``fn(*args)`` on the event loop from a pool thread, and return its result.
    (granian's ``receive``/``send`` return awaitables that are not coroutines, which
    ``run_coroutine_threadsafe`` alone refuses.)"""

    async def call() -> Any:
        return await fn(*args)

    return asyncio.run_coroutine_threadsafe(call(), loop).result()


def _content_length(scope: dict) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return 0 if scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS") else None


async def _spool_body(receive: Any) -> tuple[Any, int]:
    """A body of unknown length (chunked), in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE and on
    disk beyond, as Django's own ASGI handler keeps it; and its length."""
    # Closed by WSGILane once the request is answered.
    body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b")  # noqa: SIM115
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        body.write(message.get("body", b""))
        if not message.get("more_body", False):
            break
    length = body.tell()
    body.seek(0)
    return body, length


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def make_application():
    """The portal's ASGI application (``heatportal.asgi.application``)."""
    from heatportal.api.errors import family_for_path
    from heatportal.threads import web_threads

    executor = web_threads()
    async_api = ApiASGIHandler()
    api = WSGILane(ApiWSGIHandler(), executor)
    pages = WSGILane(WSGIHandler(), executor)
    async_prefixes = tuple(settings.ASYNC_API_PREFIXES)

    async def application(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return await lifespan(receive, send)
        path = scope["path"]
        if path.startswith(async_prefixes):
            return await async_api(scope, receive, send)
        lane = api if family_for_path(path) is not None else pages
        return await lane(scope, receive, send)

    if settings.FORWARDED_ALLOW_IPS:  # behind a reverse proxy: the client from X-Forwarded-For
        return ProxyHeadersMiddleware(application, trusted_hosts=settings.FORWARDED_ALLOW_IPS)
    return application
