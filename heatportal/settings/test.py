"""Tests: the base settings with fast password hashing and a data folder of their own.

Worker processes started by the test suite use these settings too; they are pointed at the
test database with ``HEAT_TEST_DATABASE_NAME``.
"""

import os
from pathlib import Path

# Before base reads it: the suite's database file, broker folder and media stay apart from the
# development ones, and apart from another test run's on the same checkout (a run per process:
# two runs sharing one SQLite file break each other). Set in the environment, so that the
# worker processes a run starts use its folder; tests/conftest.py removes it at the end.
os.environ.setdefault(
    "HEAT_DATA_DIR", str(Path(__file__).resolve().parents[2] / ".test-data" / f"run-{os.getpid()}")
)

from .base import *  # noqa: F403
from .base import DATA_DIR, DATABASES, env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that a worker process and the live server see the same rows.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}

_test_database = env("HEAT_TEST_DATABASE_NAME", default="")
if _test_database:
    DATABASES["default"]["NAME"] = _test_database

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API in tests
SERVESTATIC_USE_FINDERS = True  # never stale collected files

# pytest captures what tests log (caplog); a console handler would write to streams that pytest
# has already closed when the live server thread logs late.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "root": {"handlers": ["null"], "level": "INFO"},
}
