"""Energy sites (sites_app)."""

from .environment import env

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
