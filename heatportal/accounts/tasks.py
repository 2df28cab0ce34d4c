from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from heatportal.accounts.models import AccessToken, RefreshToken

# Tokens that ended this long ago are of no use, not even for an audit.
STALE_AFTER = timedelta(days=30)


@shared_task
def purge_stale_tokens() -> int:
    """Delete access and refresh tokens that expired or were revoked long ago. Idempotent."""
    cutoff = timezone.now() - STALE_AFTER
    stale = Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff)
    deleted = 0
    for model in (AccessToken, RefreshToken):
        count, _ = model.objects.filter(stale).delete()
        deleted += count
    return deleted
