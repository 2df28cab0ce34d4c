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
# The longest range GET /sites/{siteId}/telemetry answers (days): at raw resolution, and at
# 5m, 15m and 1h; longer is a 400.
SITES_HISTORY_MAX_DAYS_RAW = env.int("SITES_HISTORY_MAX_DAYS_RAW", default=7)
SITES_HISTORY_MAX_DAYS = env.int("SITES_HISTORY_MAX_DAYS", default=92)
# The most reports one POST /api/v1/gateway/telemetry batch ({"reports": [...]}) may hold.
SITES_TELEMETRY_MAX_BATCH = env.int("SITES_TELEMETRY_MAX_BATCH", default=1000)
# Telemetry history older than this (days) is deleted by the hourly sweep
# (sites_app.tasks.telemetry_history_sweep); on PostgreSQL whole expired months are dropped.
SITES_TELEMETRY_RETENTION_DAYS = env.int("SITES_TELEMETRY_RETENTION_DAYS", default=400)
