"""HEAT Portal settings, read from the environment (django-environ).

Every integration has an embedded default that works with no service running (SQLite, local
files, a filesystem Celery broker) and a URL that switches it to the real thing:

- ``DATABASE_URL``: PostgreSQL through psycopg 3, with a connection pool (ASGI-friendly).
- ``REDIS_URL``: Celery broker, cache (throttling), and wake-up notifications.
- ``S3_BUCKET`` (+ ``S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...): S3-compatible storage.

See ``docs/configuration.md`` for the full list.

Each topic has a module of its own; this one puts them together in order. ``production`` and
``test`` start from it.
"""

from .api import *  # noqa: F403
from .auth import *  # noqa: F403
from .core import *  # noqa: F403
from .crowd import *  # noqa: F403
from .database import *  # noqa: F403
from .environment import *  # noqa: F403
from .scenarios import *  # noqa: F403
from .sessions import *  # noqa: F403
from .sites import *  # noqa: F403
from .storage import *  # noqa: F403
from .workers import *  # noqa: F403
