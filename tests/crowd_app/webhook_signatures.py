"""Checking a delivered webhook the way a receiver does: with the standardwebhooks package."""

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


def webhook_verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Whether ``Webhook(secret).verify`` accepts the delivery: its signature, and its timestamp
    within the package's tolerance (5 minutes)."""
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True
