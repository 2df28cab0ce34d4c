"""Django itself: the secret key, hosts, apps, middleware, templates, language, logging, history."""

from .environment import BASE_DIR, env

# --- Core -------------------------------------------------------------------------------------

# A development key for `make run` and the tests; production.py reads DJANGO_SECRET_KEY with no
# default.
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

# --- Internationalisation ---------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- History of changes (heatportal/audit.py, docs/audit.md) --------------------------------

# LogEntry.cid: the request's id (the client's X-Request-ID, or one of ours).
AUDITLOG_CID_GETTER = "heatportal.audit.request_id"
# A related object by its name ("owner: ada"), not its id; no tracked model's str() shows a secret.
AUDITLOG_USE_FK_STRING_REPRESENTATION = True

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
