"""ASGI entry point: ``granian --interface asgi heatportal.asgi:application`` (supervisord.conf).

The lanes that requests take through Django are in :mod:`heatportal.lanes`.
"""

import multiprocessing
import os

import django

from heatportal.processes import die_with_parent

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heatportal.settings.base")
django.setup(set_prefix=False)

from heatportal.lanes import make_application  # noqa: E402 (needs the settings above)

# A granian worker process (a multiprocessing child of granian's main process) dies with it:
# otherwise a `kill -9` of the main leaves the worker serving the port, outside the
# supervisor's reach, beside the restarted server.
if (parent := multiprocessing.parent_process()) is not None:
    die_with_parent(parent.pid)

application = make_application()
