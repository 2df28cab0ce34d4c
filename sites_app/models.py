import uuid

from django.db import models

from heatportal.credentials import Credential, CredentialKind


class AccessGroup(models.Model):
    """Owns sites; its API keys see only its sites."""

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    access_group = models.ForeignKey(AccessGroup, on_delete=models.PROTECT, related_name="sites")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SiteApiKey(Credential):
    """A public-API key ``agk_<id>.ags_<secret>`` of one access group."""

    KINDS = (
        CredentialKind(name="site_api_key", prefix="agk_", id_length=12, separator=".ags_", secret_length=40),
    )

    access_group = models.ForeignKey(AccessGroup, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["access_group", "name"], name="site_api_key_name_unique_in_group"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked})"


class SiteDeviceToken(Credential):
    """The token an energy gateway on site uses for the gateway API."""

    KINDS = (
        CredentialKind(name="device_token", prefix="hdt_", id_length=12, separator=".", secret_length=40),
    )

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="device_tokens")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.masked
