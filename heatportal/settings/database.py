"""The database and the cache: embedded SQLite and a file cache, or PostgreSQL and Redis by URL."""

from .environment import DATA_DIR, env

# --- Database ---------------------------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections, one per thread that queries: the web process runs requests on
    # its own threads (heatportal/threads.py, at most WEB_THREADS), workers on their pool's, so
    # the connections are bounded by those and reused. A request then costs no checkout and
    # return (a psycopg pool took ~50 us of CPU per request for both). DATABASE_POOL_MAX_SIZE
    # > 0 takes a psycopg pool per process instead (a connection per request, given back).
    DATABASES["default"]["CONN_MAX_AGE"] = None
    if (pool_max := env.int("DATABASE_POOL_MAX_SIZE", default=0)) > 0:
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            "max_size": pool_max,
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat read while one of them writes; IMMEDIATE
    # transactions take the write lock up front instead of failing half-way with "locked".
    # Persistent connections: the web process runs requests on a fixed set of threads
    # (heatportal/lanes.py), so each keeps one open instead of opening one per request.
    DATABASES["default"]["CONN_MAX_AGE"] = None
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Redis -----------------------------------------------------------------------------

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Shared by every process on this machine (web, worker), unlike the local-memory cache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }
