"""HEAT Portal settings, read from the environment (django-environ).

Every integration has an embedded default that works with no service running (SQLite, local
files, a filesystem Celery broker) and a URL that switches it to the real thing:

- ``DATABASE_URL``: PostgreSQL through psycopg 3, with a connection pool (ASGI-friendly).
- ``REDIS_URL``: Celery broker, cache (throttling), and wake-up notifications.
- ``S3_BUCKET`` (+ ``S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...): S3-compatible storage.

See ``docs/configuration.md`` for the full list.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DATA_DIR = Path(env("HEAT_DATA_DIR", default=str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

# --- Core -------------------------------------------------------------------------------------

# The development default is deliberately unusable in production: production.py requires
# DJANGO_SECRET_KEY and refuses to start without it.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="django-insecure-heat-portal-development-only")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "heatportal.apps.HeatAdminConfig",  # django.contrib.admin, with the portal's admin site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "heatportal.accounts",
    "heatportal",
    "sessions_app",
    "sites_app",
    "scenarios_app",
    "crowd_app",
    "auditlog",  # the history of changes (heatportal/audit.py, docs/audit.md)
]

# Every entry must be async-capable so that async views (long polls) run on the event loop
# without a thread per request; tests/heatportal/test_asgi.py checks it.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # NUL and lone surrogates in a URL or header: a 400 in the family's shape (docs/decisions.md).
    "heatportal.api.middleware.InputGuardMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Who made a page's or the admin's changes (heatportal/audit.py); auditlog's own middleware
    # is not async-capable and trusts X-Forwarded-For from anyone.
    "heatportal.audit.AuditMiddleware",
]

# API paths skip the rest (heatportal/lanes.py): their views authenticate themselves, set no
# cookies and render no pages.
API_MIDDLEWARE = [
    "heatportal.api.middleware.SecurityMiddleware",  # Django's, run inline on the async lane
    "heatportal.api.middleware.InputGuardMiddleware",
]
# Paths whose views wait on asyncio (the crowd API's blocking polls): Django's ASGI handler.
ASYNC_API_PREFIXES = ["/v1/"]
# Threads of the web process that run Django's (synchronous) handler; each keeps its database
# connection. Requests beyond this wait for a free thread.
WEB_THREADS = env.int("WEB_THREADS", default=16)
# Addresses of reverse proxies whose X-Forwarded-For names the client (comma-separated, or "*");
# empty: the client is the peer of the connection (docs/configuration.md, "Client address").
FORWARDED_ALLOW_IPS = env("FORWARDED_ALLOW_IPS", default="")

ROOT_URLCONF = "heatportal.urls"
ASGI_APPLICATION = "heatportal.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "heatportal.context_processors.navigation",
            ],
        },
    },
]

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

# --- Users and authentication -----------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
# Django's backend checks passwords; heatportal.permissions answers the admin's permission checks
# (an administrator may do everything).
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "heatportal.permissions.AdminRoleBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Credentials (heatportal/credentials.py): how often last_used_at may be written per credential.
CREDENTIAL_LAST_USED_INTERVAL = timedelta(seconds=env.int("CREDENTIAL_LAST_USED_INTERVAL", default=60))
# Invalid API keys, device tokens and bearer tokens presented by one client address (per kind
# of credential) in a window opened by the first failure, before that address gets 429 until it closes.
CREDENTIAL_MAX_FAILURES_PER_ADDRESS = env.int("CREDENTIAL_MAX_FAILURES_PER_ADDRESS", default=20)
CREDENTIAL_FAILURE_WINDOW = env.int("CREDENTIAL_FAILURE_WINDOW", default=300)  # seconds
# How long a server process answers a verified credential from memory (heatportal/credentials.py):
# the bound on how late a revocation made in another process takes effect. 0 turns it off.
CREDENTIAL_CACHE_SECONDS = env.float("CREDENTIAL_CACHE_SECONDS", default=1.0)

# HEAT Auth
HEAT_ACCESS_TOKEN_LIFETIME = timedelta(seconds=env.int("HEAT_ACCESS_TOKEN_LIFETIME", default=3600))
HEAT_REFRESH_TOKEN_LIFETIME = timedelta(days=env.int("HEAT_REFRESH_TOKEN_DAYS", default=30))
HEAT_AUTH_FAILURE_WINDOW = env.int("HEAT_AUTH_FAILURE_WINDOW", default=300)  # seconds
HEAT_AUTH_MAX_FAILURES_PER_USER = env.int("HEAT_AUTH_MAX_FAILURES_PER_USER", default=5)
HEAT_AUTH_MAX_FAILURES_PER_IP = env.int("HEAT_AUTH_MAX_FAILURES_PER_IP", default=20)

# HEAT v2 API
# Prefixes of platform configuration that non-admins may read (CONTRACT §2).
PUBLIC_CONFIG_PREFIXES = env.list("PUBLIC_CONFIG_PREFIXES", default=["public_api_v1"])
HEAT_MAX_UPLOAD_BYTES = env.int("HEAT_MAX_UPLOAD_BYTES", default=5 * 1024**3)
# Read and write uploads in pieces of this size (never the whole body in memory).
HEAT_UPLOAD_CHUNK_BYTES = env.int("HEAT_UPLOAD_CHUNK_BYTES", default=1024 * 1024)

# Energy sites (sites_app)
# A site is online while its last telemetry report is younger than this (seconds).
SITE_OFFLINE_AFTER = env.int("SITE_OFFLINE_AFTER", default=300)
# Public API requests allowed per API key in each window of SITES_API_RATE_WINDOW seconds.
SITES_API_RATE_LIMIT = env.int("SITES_API_RATE_LIMIT", default=600)
SITES_API_RATE_WINDOW = env.int("SITES_API_RATE_WINDOW", default=60)
SITES_MAX_ACTIVE_KEYS_PER_GROUP = 20
SITES_MAX_ENTRIES_PER_COMMAND = env.int("SITES_MAX_ENTRIES_PER_COMMAND", default=500)
# Telemetry stamped further than this in the future (seconds) is refused: it would pin the
# site's state, since older reports never replace newer ones.
SITES_TELEMETRY_MAX_CLOCK_SKEW = env.int("SITES_TELEMETRY_MAX_CLOCK_SKEW", default=300)

# Scenario runner (scenarios_app)
SCENARIOS_TITLE = env("SCENARIOS_TITLE", default="HEAT Scenario Runner")
# A processing scenario whose worker has not written for this long is presumed dead (seconds).
SCENARIOS_HEARTBEAT_INTERVAL = env.float("SCENARIOS_HEARTBEAT_INTERVAL", default=2.0)
SCENARIOS_HEARTBEAT_TIMEOUT = env.float("SCENARIOS_HEARTBEAT_TIMEOUT", default=30.0)
# A dead run is re-queued or failed within timeout + interval (40 s) of its last heartbeat.
SCENARIOS_SWEEP_INTERVAL = env.float("SCENARIOS_SWEEP_INTERVAL", default=10.0)
# Runs a scenario gets (a re-queue after a dead worker is a second run); then it fails.
SCENARIOS_MAX_ATTEMPTS = env.int("SCENARIOS_MAX_ATTEMPTS", default=2)
# Workers write progress at most this often (seconds).
SCENARIOS_PROGRESS_INTERVAL = env.float("SCENARIOS_PROGRESS_INTERVAL", default=0.1)
# ETL uploads: total request size and uncompressed size of an .xlsx.
SCENARIOS_ETL_MAX_BYTES = env.int("SCENARIOS_ETL_MAX_BYTES", default=50 * 1024**2)
SCENARIOS_ETL_MAX_XLSX_UNCOMPRESSED = env.int("SCENARIOS_ETL_MAX_XLSX_UNCOMPRESSED", default=500 * 1024**2)
SCENARIOS_ETL_MAX_JSON_BYTES = env.int("SCENARIOS_ETL_MAX_JSON_BYTES", default=10 * 1024**2)

# Crowd requests (crowd_app)
CROWD_RATE_LIMIT_PER_MINUTE = env.int("CROWD_RATE_LIMIT_PER_MINUTE", default=600)  # per API key
CROWD_MAX_BLOCK_SECONDS = env.float("CROWD_MAX_BLOCK_SECONDS", default=60)  # ?block=N cap (CONTRACT §5)
CROWD_MAX_ATTACHMENTS = env.int("CROWD_MAX_ATTACHMENTS", default=20)
CROWD_MAX_ATTACHMENT_LENGTH = env.int("CROWD_MAX_ATTACHMENT_LENGTH", default=4096)  # characters
CROWD_MAX_TEXT_LENGTH = env.int("CROWD_MAX_TEXT_LENGTH", default=10_000)  # instruction, labels
CROWD_MAX_CHOICES = env.int("CROWD_MAX_CHOICES", default=100)
CROWD_MAX_PARAMS_BYTES = env.int("CROWD_MAX_PARAMS_BYTES", default=256 * 1024)
CROWD_MAX_CRUNCHERS = env.int("CROWD_MAX_CRUNCHERS", default=25)
CROWD_MAX_UPLOAD_BYTES = env.int("CROWD_MAX_UPLOAD_BYTES", default=50 * 1024**2)  # media answers
CROWD_LEASE_SECONDS = env.int("CROWD_LEASE_SECONDS", default=600)
# Seconds before the simulated crunchers answer a staging request.
CROWD_STAGING_DELAY = env.float("CROWD_STAGING_DELAY", default=1.0)
# Sweeps of crowd_app (queue `sweeps`): a staging request still pending this long after its
# answer was due has its message sent again; at most this many rows per sweep and kind.
CROWD_SWEEP_INTERVAL = env.float("CROWD_SWEEP_INTERVAL", default=15.0)
CROWD_STAGING_RESEND_AFTER = env.float("CROWD_STAGING_RESEND_AFTER", default=30.0)
CROWD_SWEEP_BATCH = env.int("CROWD_SWEEP_BATCH", default=500)
# Absolute base of the URLs of uploaded and staging media answers.
CROWD_PUBLIC_URL = env("CROWD_PUBLIC_URL", default=f"http://127.0.0.1:{env('PORT', default='8000')}")
# Embedded default (no Redis): how often the one shared poller of a process looks at the
# completion signal file, and how often it asks the database regardless.
CROWD_WAKE_SIGNAL_INTERVAL = env.float("CROWD_WAKE_SIGNAL_INTERVAL", default=0.01)
CROWD_WAKE_MIN_GAP = env.float("CROWD_WAKE_MIN_GAP", default=0.03)
CROWD_WAKE_POLL_INTERVAL = env.float("CROWD_WAKE_POLL_INTERVAL", default=1.0)
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
# Celery's retry options of crowd_app.tasks.deliver_webhook (read when the task is defined):
# max_retries = attempts - 1; retry_backoff in whole seconds (at least 1), doubled per attempt,
# at most WEBHOOK_BACKOFF_MAX; retry_jitter waits a random 0..backoff (off in the test workers).
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_BACKOFF_BASE = env.float("WEBHOOK_BACKOFF_BASE", default=5.0)
WEBHOOK_BACKOFF_MAX = env.float("WEBHOOK_BACKOFF_MAX", default=3600.0)
WEBHOOK_RETRY_JITTER = env.bool("WEBHOOK_RETRY_JITTER", default=True)
# The webhooks sweep sends a delivery attempt again when it is this overdue (its message was
# lost), and retries an attempt still `sending` after this long (its worker died).
WEBHOOK_RESEND_AFTER = env.float("WEBHOOK_RESEND_AFTER", default=30.0)
WEBHOOK_SENDING_TIMEOUT = env.float("WEBHOOK_SENDING_TIMEOUT", default=120.0)
# Deliveries wait on the network, not the CPU: they have a queue of their own, served by a
# thread-pool worker (supervisord.conf `webhooks`), so that slow receivers never hold up
# scenario runs. Every periodic sweep goes to `sweeps`, served by a worker of its own
# (`sweeps`), so that busy workers cannot make recovery late (docs/operations.md).
SWEEP_TASKS = (
    "heatportal.accounts.tasks.purge_stale_tokens",
    "scenarios_app.tasks.scenarios_sweep",
    "crowd_app.tasks.expire_leases",
    "crowd_app.tasks.staging_sweep",
    "crowd_app.tasks.webhooks_sweep",
)
CELERY_TASK_ROUTES = {
    "crowd_app.tasks.deliver_webhook": {"queue": "webhooks"},
    **{name: {"queue": "sweeps"} for name in SWEEP_TASKS},
}

# --- History of changes (heatportal/audit.py, docs/audit.md) --------------------------------

# LogEntry.cid: the request's id (the client's X-Request-ID, or one of ours).
AUDITLOG_CID_GETTER = "heatportal.audit.request_id"
# A related object by its name ("owner: ada"), not its id; no tracked model's str() shows a secret.
AUDITLOG_USE_FK_STRING_REPRESENTATION = True

# --- Internationalisation ---------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and storage -----------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = DATA_DIR / "media"
# Serve from the finders when collectstatic has not run (development, tests).
SERVESTATIC_USE_FINDERS = env.bool("SERVESTATIC_USE_FINDERS", default=not STATIC_ROOT.is_dir())

STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
S3_BUCKET = env("S3_BUCKET", default="")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env("S3_ENDPOINT_URL", default=None),
            "region_name": env("S3_REGION", default=None),
            "access_key": env("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default=None),
            "location": env("S3_PREFIX", default=""),
            "file_overwrite": False,
        },
    }

# --- Celery -----------------------------------------------------------------------------------

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost//")
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=660)
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker: messages are files under the data folder, shared by the processes
    # of this machine. No server needed; a real worker process still runs the tasks. Our
    # transport is kombu's filesystem one with its races fixed (heatportal/broker.py).
    CELERY_BROKER_TRANSPORT = "heatportal.broker:Transport"
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "control", "processed", "bad"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "bad_folder": str(_broker_dir / "bad"),  # undecodable messages, kept and counted
        # No fsync per message, as SQLite's own commits here (WAL, synchronous=NORMAL): a crash
        # loses nothing (the page cache survives it); a power loss may lose the last messages or
        # leave one empty (moved to bad/), and every kind of queued work is sent again from the
        # database by its sweep. An fsync cost ~7 ms per enqueue (issue 11); BROKER_FSYNC=1 for it.
        "fsync": env.bool("BROKER_FSYNC", default=False),
        # Leftovers (control messages of stopped workers, claims of dead consumers) are dealt
        # with after this long: longer than a task may keep a worker from its control queue.
        "stale_after": CELERY_TASK_TIME_LIMIT * 2,
        # A waiting worker is woken by inotify when a message arrives or a prefetch slot frees
        # (heatportal/broker.py); it looks at the folder every watched_polling_interval anyway.
        # polling_interval is how often it looks where inotify is missing.
        "polling_interval": 0.1,
        "watched_polling_interval": 1.0,
    }
else:
    # Unacknowledged messages come back after this long: longer than the longest task, so
    # that a running task is never handed to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")


def _frequent(task: str, seconds: float) -> dict:
    """A beat entry that runs every ``seconds``; a late one is replaced by the next."""
    return {"task": task, "schedule": timedelta(seconds=seconds), "options": {"expires": seconds}}


# Periodic sweeps. Each app adds its own entry here, next to the task it runs.
CELERY_BEAT_SCHEDULE = {
    "purge-stale-tokens": {
        "task": "heatportal.accounts.tasks.purge_stale_tokens",
        "schedule": timedelta(hours=1),
    },
    # scenarios_app
    "scenarios-sweep": _frequent("scenarios_app.tasks.scenarios_sweep", SCENARIOS_SWEEP_INTERVAL),
    # crowd_app
    "crowd-expire-leases": {
        "task": "crowd_app.tasks.expire_leases",
        "schedule": timedelta(minutes=5),
    },
    "crowd-staging-sweep": _frequent("crowd_app.tasks.staging_sweep", CROWD_SWEEP_INTERVAL),
    "crowd-webhooks-sweep": _frequent("crowd_app.tasks.webhooks_sweep", CROWD_SWEEP_INTERVAL),
}

# --- REST framework and OpenAPI ---------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies are read by heatportal.api.input.parse_json (depth, NUL, surrogates, ranges).
    "DEFAULT_PARSER_CLASSES": [
        "heatportal.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "heatportal.api.schema.FamilyAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Where the scenario runner's API is mounted (document 003 uses /api/v1/).
SCENARIOS_API_PREFIX = env("SCENARIOS_API_PREFIX", default="api/v1/")

SPECTACULAR_SETTINGS = {
    "TITLE": "HEAT Portal API",
    "DESCRIPTION": (
        "HEAT v2 API and HEAT Auth, the HEAT Cloud public API for energy sites and its gateway "
        "API, the scenario runner and crowd requests."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI from the installed sidecar package, not a CDN: the portal is self-hosted.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request bodies get components of their own, with the input rules (non-blank strings...).
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH body states its own required fields (the runner's rename needs display_name).
    "COMPONENT_SPLIT_PATCH": False,
    # Bodies are documented as JSON (views that take uploads say so themselves).
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "ENUM_NAME_OVERRIDES": {
        "ErrorStatusEnum": ["error"],
        "CrowdRequestStatusEnum": "crowd_app.models.CrowdRequest.Status",
        "CrowdMediaTypeEnum": "crowd_app.validation.MEDIA_TYPES",
        "ScenarioStatusEnum": "scenarios_app.models.Scenario.Status",
        "HealthStatusEnum": ["ok"],
        "CrowdRequestTypeEnum": "crowd_app.models.RequestType",
        "AssetTypeEnum": "sites_app.models.AssetType",
        "ScheduleTypeEnum": "sites_app.models.ScheduleType",
        "ScheduledAssetEnum": ["bess", "grid", "solar"],
    },
}

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
