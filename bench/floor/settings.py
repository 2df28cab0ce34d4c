"""Settings of the floor: nothing a request could pay for beyond Django's own handler."""

SECRET_KEY = "bench-floor-not-secret"  # noqa: S105 (signs nothing: no sessions, no middleware)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
ROOT_URLCONF = "bench.floor.urls"
USE_TZ = True
LOGGING_CONFIG = None
ASGI_APPLICATION = "bench.floor.asgi.application"
WSGI_APPLICATION = "bench.floor.wsgi.application"
