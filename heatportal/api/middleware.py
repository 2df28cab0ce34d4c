"""Refuse, before any view, requests whose URL or headers hold text that no API stores, and
turn :class:`~heatportal.api.input.BadInput` raised by a view or a model save into a 400.

Both answer in the family shape of the request's path (``family_for_path``); portal pages get
Django's plain 400 page. Bodies are checked where they are parsed (:func:`parse_json`), since
uploads are streamed and never read whole here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.security import SecurityMiddleware as DjangoSecurityMiddleware
from django.views.defaults import bad_request

from heatportal.api.errors import ApiError, error_response, family_for_path
from heatportal.api.input import BadInput, has_text_problem, text_problem

# Headers that Django moves out of HTTP_* in request.META.
_PLAIN_HEADERS = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}


def url_and_header_problem(request: HttpRequest) -> BadInput | None:
    """What is wrong with the request's path, query or headers, if anything."""
    if not _may_have_problem(request):
        return None
    problem = text_problem(request.path)
    if problem is not None:
        return BadInput(f"The URL path {problem[1]}.", kind=problem[0])
    for name, values in request.GET.lists():
        for text in (name, *values):
            problem = text_problem(text)
            if problem is not None:
                shown = name if text_problem(name) is None else "(name)"
                return BadInput(f"Query parameter '{shown}' {problem[1]}.", kind=problem[0])
    for key, value in request.META.items():
        if not isinstance(value, str) or not (key.startswith("HTTP_") or key in _PLAIN_HEADERS):
            continue
        problem = text_problem(value)
        if problem is not None:
            header = _PLAIN_HEADERS.get(key) or key.removeprefix("HTTP_").replace("_", "-").title()
            return BadInput(f"Header '{header}' {problem[1]}.", kind=problem[0])
    return None


def _may_have_problem(request: HttpRequest) -> bool:
    """False in the common case, found with one search over the path and the headers joined:
    nothing can hold a NUL or a lone surrogate. A decoded query can hold a NUL only from a
    ``%00`` or a raw NUL (its undecodable bytes become U+FFFD, never surrogates)."""
    meta = request.META
    query = meta.get("QUERY_STRING", "")
    if "\x00" in query or "%00" in query:
        return True
    texts = [request.path]
    texts.extend(
        value
        for key, value in meta.items()
        if isinstance(value, str) and (key.startswith("HTTP_") or key in _PLAIN_HEADERS)
    )
    return has_text_problem("".join(texts))


def bad_input_response(request: HttpRequest, error: BadInput) -> HttpResponse:
    family = family_for_path(request.path)
    if family is None:
        return bad_request(request, SuspiciousOperation(str(error)))
    details = [{"field": error.field, "message": error.message}] if error.loc else None
    return error_response(family, ApiError(status=400, message=str(error), details=details))


class InputGuardMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.async_mode:
            return self.__acall__(request)
        problem = url_and_header_problem(request)
        if problem is not None:
            return bad_input_response(request, problem)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        problem = url_and_header_problem(request)  # pure computation: no thread needed
        if problem is not None:
            return bad_input_response(request, problem)
        return await self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view (or a save it made) refused a value: 400, not 500. DRF views answer these in
        their exception handler already; this covers the plain Django views."""
        if isinstance(exception, BadInput):
            return bad_input_response(request, exception)
        return None


class SecurityMiddleware(DjangoSecurityMiddleware):
    """Django's SecurityMiddleware, run inline on the async lane.

    Django's old-style middleware runs ``process_request`` and ``process_response`` through
    thread-sensitive ``sync_to_async`` under ASGI: two trips to a thread per request for work
    that is pure computation here (an HTTPS redirect decision from settings and the request;
    a few response headers), so they run on the event loop instead."""

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        redirect = self.process_request(request)
        if redirect is not None:
            return self.process_response(request, redirect)
        # Built on the async lane, the next handler is a coroutine function; the stubs type
        # process_response for HttpResponse, but it only sets headers, on any response.
        get_response = cast(Callable[[HttpRequest], Awaitable[HttpResponse]], self.get_response)
        return self.process_response(request, await get_response(request))
