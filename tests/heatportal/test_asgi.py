"""The portal runs under ASGI: async views must not be forced onto a thread by middleware."""

import logging

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.utils.module_loading import import_string


def test_every_middleware_is_async_capable(settings):
    for path in settings.MIDDLEWARE:
        assert getattr(import_string(path), "async_capable", False), path


def test_the_asgi_handler_adapts_no_middleware(settings, caplog):
    settings.DEBUG = True  # Django logs each adaptation only in debug mode
    with caplog.at_level(logging.DEBUG, logger="django.request"):
        ASGIHandler()

    adapted = [r.getMessage() for r in caplog.records if "adapted for middleware" in r.getMessage()]
    assert adapted == []


@pytest.mark.django_db
async def test_static_files_are_served_through_asgi(async_client):
    response = await async_client.get("/static/css/portal.css")

    assert response.status_code == 200
    assert b"--brand" in b"".join([chunk async for chunk in response.streaming_content])


def sync_only_middleware(get_response):
    return get_response


sync_only_middleware.async_capable = False


def test_the_adaptation_check_notices_a_sync_only_middleware(settings, caplog):
    settings.DEBUG = True
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.heatportal.test_asgi.sync_only_middleware"]
    with caplog.at_level(logging.DEBUG, logger="django.request"):
        ASGIHandler()

    assert any("adapted for middleware" in r.getMessage() for r in caplog.records)
