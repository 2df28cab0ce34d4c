"""Settings of the floor: nothing a request could pay for beyond Django's own handler.

``DATABASE_URL`` (bench/api_bench.py passes HEAT's own database) adds the reference ``/query``:
a bare view that reads one row through the ORM, with the connection settings HEAT uses
(persistent connections, SQLite's WAL): what any endpoint that must look a row up starts from.
"""

import os

import environ

SECRET_KEY = "bench-floor-not-secret"  # noqa: S105 (signs nothing: no sessions, no middleware)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["bench.floor"]
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": environ.Env().db("DATABASE_URL")}
    DATABASES["default"]["CONN_MAX_AGE"] = None
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        }
ROOT_URLCONF = "bench.floor.urls"
USE_TZ = True
LOGGING_CONFIG = None
ASGI_APPLICATION = "bench.floor.asgi.application"
WSGI_APPLICATION = "bench.floor.wsgi.application"
