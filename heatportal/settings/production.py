"""Production: the base settings, with secrets required and HTTPS hardening on."""

from .base import *  # noqa: F403
from .base import env

# No default: without DJANGO_SECRET_KEY in the environment, django-environ refuses to load the
# settings (ImproperlyConfigured), so a server never runs with the development key.
SECRET_KEY = env("DJANGO_SECRET_KEY")

DEBUG = False
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
