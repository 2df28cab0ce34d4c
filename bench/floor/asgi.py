"""The floor: a bare Django project (no middleware, no database) served like HEAT.

bench/harness.py serves it with ``heat_server_command(port, project="bench.floor")``, so the
figures of a bare view come from the same server configuration as HEAT's: the same server
and the same lanes (heatportal/lanes.py): ``/sync``, a sync view, runs on Django's WSGI handler
in the thread pool (HEAT's API lane); ``/async``, an async view, on the async lane's handler
(``LeanASGIHandler``: HEAT's async API lane, the crowd API). Both answer a small JSON body, as
the runner's status does.
"""

import os

import django

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.floor.settings"
django.setup(set_prefix=False)

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

from heatportal.lanes import LeanASGIHandler, WSGILane, lifespan  # noqa: E402
from heatportal.threads import WebThreads  # noqa: E402

_sync = WSGILane(WSGIHandler(), WebThreads(16))
_async = LeanASGIHandler()


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(receive, send)
    lane = _async if scope["path"].startswith(("/async", "/health")) else _sync
    return await lane(scope, receive, send)
