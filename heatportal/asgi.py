"""ASGI entry point: ``granian --interface asgi heatportal.asgi:application`` (supervisord.conf).

The lanes that requests take through Django are in :mod:`heatportal.lanes`.
"""

import gc
import multiprocessing
import os

import django

from heatportal.processes import die_with_parent

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heatportal.settings.base")
django.setup(set_prefix=False)

from django.urls import get_resolver  # noqa: E402 (needs the settings above)

from heatportal.lanes import make_application  # noqa: E402

# A granian worker process (a multiprocessing child of granian's main process) dies with it:
# otherwise a `kill -9` of the main leaves the worker serving the port, outside the
# supervisor's reach, beside the restarted server.
if (parent := multiprocessing.parent_process()) is not None and parent.pid is not None:
    die_with_parent(parent.pid)

application = make_application()

# Everything loaded at start-up (Django, the URLconf and every view) is moved out of the garbage
# collector's reach: a full collection then scans only what requests made, instead of holding
# the GIL for tens of milliseconds over the whole heap (the runner's status at -c10: p99 40-50 ms
# without, 6-7 ms with; docs/decisions.md, "Server").
get_resolver().url_patterns  # noqa: B018 (imports every view now, before the freeze)
gc.freeze()
