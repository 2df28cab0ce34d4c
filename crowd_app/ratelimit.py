"""The crowd API's rate limit: calls per API key and minute (``CROWD_RATE_LIMIT_PER_MINUTE``)."""

from __future__ import annotations

from django.conf import settings

from crowd_app.models import CrowdApiKey
from heatportal.ratelimit import LeasedRateLimit

# Counted for every server process together in the shared cache, in leases: a process takes a
# few calls of the minute's allowance in one round trip and spends them locally, so most calls
# cost no round trip, and no more than the limit are ever served in a minute.
_rate_limit = LeasedRateLimit("crowd")


def rate_limit_retry_after(*, api_key: CrowdApiKey) -> int | None:
    """Count one call of ``api_key`` in the current minute; the seconds to wait when over."""
    return _rate_limit.hit(api_key.pk, limit=settings.CROWD_RATE_LIMIT_PER_MINUTE, window=60)
