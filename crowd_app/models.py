from django.conf import settings
from django.db import models

from heatportal.credentials import LOWER_HEX, Credential, CredentialKind


class CrowdAccount(models.Model):
    """A customer of the crowd API: owns keys and requests."""

    name = models.CharField(max_length=100, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="crowd_accounts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

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
        ordering = ["-created_at"]

    @property
    def is_test(self) -> bool:
        return self.kind == self.TEST.name

    def __str__(self) -> str:
        return self.name or self.masked
