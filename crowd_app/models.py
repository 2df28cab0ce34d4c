import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from heatportal.credentials import LOWER_HEX, Credential, CredentialKind


class CrowdAccount(models.Model):
    """A customer of the crowd API: owns keys, requests and one webhook signing secret."""

    name = models.CharField(max_length=100, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="crowd_accounts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Fernet token of the Standard Webhooks secret (``whsec_...``), key derived from SECRET_KEY
    # (crowd_app/webhooks.py). Empty until first needed. Never stored in plaintext.
    webhook_secret_encrypted = models.TextField(blank=True, default="", editable=False)
    webhook_secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CrowdApiKey(Credential):
    """``X-Heat-API-Key``: 32 hex digits, ``test_``-prefixed for staging (document 004).

    The first 12 digits are the lookup id, the other 20 the secret.
    """

    LIVE = CredentialKind(
        name="live", prefix="", id_length=12, separator="", secret_length=20, alphabet=LOWER_HEX
    )
    TEST = CredentialKind(
        name="test", prefix="test_", id_length=12, separator="", secret_length=20, alphabet=LOWER_HEX
    )
    KINDS = (LIVE, TEST)

    account = models.ForeignKey(CrowdAccount, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "crowd API key"
        ordering = ["-created_at"]

    @property
    def is_test(self) -> bool:
        return self.kind == self.TEST.name

    def __str__(self) -> str:
        return self.name or self.masked


class Cruncher(models.Model):
    """Someone (or, in staging, something) who answers tasks. ``cruncher_id`` is the opaque id
    clients see in ``raw_responses`` and may name in ``exclude_crunchers``."""

    cruncher_id = models.CharField(max_length=32, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="cruncher"
    )
    simulated = models.BooleanField(default=False, help_text="A staging robot, not a person.")
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(simulated=True) | Q(user__isnull=False), name="crowd_cruncher_person_has_user"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.cruncher_id


class RequestType(models.TextChoices):
    MULTIPLE_CHOICE = "multiple-choice"
    FREE_TEXT = "free-text"
    RATING = "rating"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    ANNOTATIONS = "annotations"
    ANNOTATIONS_WITH_MULTIPLE_CHOICE = "annotations-with-multiple-choice"
    ANNOTATIONS_WITH_FREE_TEXT = "annotations-with-free-text"
    ANNOTATIONS_WITH_RATING = "annotations-with-rating"


class CrowdRequest(models.Model):
    """One request of document 004. ``params`` holds the body as echoed back (defaults filled in,
    unknown fields kept); the columns beside it are what queries and constraints need."""

    class Status(models.TextChoices):
        PENDING = "pending"
        COMPLETE = "complete"
        ABORTED = "aborted"

    class WebhookState(models.TextChoices):
        NONE = "none"
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(CrowdAccount, on_delete=models.CASCADE, related_name="requests")
    api_key = models.ForeignKey(
        CrowdApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    type = models.CharField(max_length=40, choices=RequestType.choices)
    params = models.JSONField(default=dict)
    staging = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    response = models.JSONField(null=True, blank=True)
    min_agreements = models.PositiveSmallIntegerField(default=1)
    max_crunchers = models.PositiveSmallIntegerField(default=1)
    hook_url = models.URLField(max_length=2000, blank=True)
    webhook_state = models.CharField(max_length=10, choices=WebhookState.choices, default=WebhookState.NONE)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Staging: when the simulated crunchers' message was last sent again by the sweep
    # (crowd_app.services.staging_sweep); null while the first one has not been found overdue.
    staging_resent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "staging", "created_at"], name="crowd_request_queue"),
            # The wake-up poller's "what completed lately" (crowd_app/notify.py).
            models.Index(fields=["completed_at"], name="crowd_request_completed"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending", completed_at__isnull=True)
                | (~Q(status="pending") & Q(completed_at__isnull=False)),
                name="crowd_request_completed_at_iff_done",
            ),
            models.CheckConstraint(
                condition=Q(min_agreements__gte=1) & Q(max_crunchers__gte=models.F("min_agreements")),
                name="crowd_request_agreement_bounds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    @property
    def exclude_crunchers(self) -> list[str]:
        return list(self.params.get("exclude_crunchers") or [])


class CrowdAnswer(models.Model):
    """One cruncher's answer to one request; a cruncher answers a request at most once."""

    request = models.ForeignKey(CrowdRequest, on_delete=models.CASCADE, related_name="answers")
    cruncher = models.ForeignKey(Cruncher, on_delete=models.PROTECT, related_name="answers")
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "cruncher"], name="crowd_answer_once_per_cruncher")
        ]

    def __str__(self) -> str:
        return f"answer of {self.cruncher_id} to {self.request_id}"


class TaskLease(models.Model):
    """Who is working on a request right now. One holder per request and one task per cruncher
    at a time; a lease past ``expires_at`` may be taken over."""

    request = models.OneToOneField(CrowdRequest, on_delete=models.CASCADE, related_name="lease")
    cruncher = models.OneToOneField(Cruncher, on_delete=models.CASCADE, related_name="lease")
    taken_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.cruncher_id} holds {self.request_id} until {self.expires_at:%H:%M:%S}"


class TaskSkip(models.Model):
    """A cruncher handed this task back with *Skip*. *Take next task* offers them the tasks they
    have not skipped first, and a skipped one (least recently skipped first) only when nothing
    else is waiting. ``skipped_at`` is the latest skip."""

    request = models.ForeignKey(CrowdRequest, on_delete=models.CASCADE, related_name="skips")
    cruncher = models.ForeignKey(Cruncher, on_delete=models.CASCADE, related_name="skips")
    skipped_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cruncher", "request"], name="crowd_skip_once_per_cruncher")
        ]

    def __str__(self) -> str:
        return f"{self.cruncher_id} skipped {self.request_id}"


class WebhookDelivery(models.Model):
    """One attempt to POST a completed request to its ``hook_url``: the database's record of
    what is due, in flight and done, from which a sweep re-sends what a lost message or a dead
    worker left behind (``crowd_app.services.webhooks_sweep``).

    ``pending`` (due at ``next_attempt_at``) → ``sending`` (claimed by one worker at
    ``started_at``) → ``succeeded`` | ``retrying`` (the next attempt's row is ``pending``) |
    ``failed``.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SUCCEEDED = "succeeded"
        RETRYING = "retrying"
        FAILED = "failed"

    request = models.ForeignKey(CrowdRequest, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=40, help_text="webhook-id: the same for every retry")
    attempt = models.PositiveSmallIntegerField()
    url = models.URLField(max_length=2000)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    # pending: when this attempt is due; retrying: when the next one is.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["message_id", "attempt"], name="crowd_delivery_attempt_once")
        ]
        indexes = [
            # The sweep's "what is overdue or stuck" (only the unfinished rows).
            models.Index(
                fields=["outcome", "next_attempt_at"],
                name="crowd_delivery_open",
                condition=Q(outcome__in=["pending", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_id} attempt {self.attempt}: {self.outcome}"
