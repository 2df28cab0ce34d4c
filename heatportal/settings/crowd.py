"""Crowd requests (crowd_app) and their webhooks."""

from .environment import env

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
