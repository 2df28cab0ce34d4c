"""Users, passwords, credentials (API keys, device tokens, bearer tokens) and HEAT Auth."""

from datetime import timedelta

from .environment import env

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
