from uuid import uuid4

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from heatportal.credentials import Credential, CredentialKind


class UserRole(models.TextChoices):
    """``User.Role``, at module level for the model's constraints."""

    ADMIN = "Admin"
    INSTRUCTOR = "Instructor"
    TRAINEE = "Trainee"


class User(AbstractUser):
    """A portal user. The role decides what the HEAT v2 API lets them do."""

    Role = UserRole

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.TRAINEE)
    # The stable public id of the user: the ``UserId`` of ``GET /api/v2/user_data`` (document 000
    # prints a UUID there), so that the integer primary key never leaves the portal.
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=UserRole.values),
                name="user_role_valid",
            ),
        ]


class AccessToken(Credential):
    """An opaque bearer token of HEAT Auth: short-lived from a login, or a named offline token."""

    KINDS = (CredentialKind(name="access", prefix="hat_", id_length=12, separator=".", secret_length=40),)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=100, blank=True)
    is_offline = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(is_offline=True, name=""), name="offline_token_has_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.masked

    @property
    def recorded_in_history(self) -> bool:
        """Offline tokens are made and revoked by people; a sign-in's tokens are not recorded."""
        return self.is_offline


class RefreshToken(Credential):
    """Exchanges for a new access/refresh pair once; then it is revoked (rotation)."""

    KINDS = (CredentialKind(name="refresh", prefix="hrt_", id_length=12, separator=".", secret_length=40),)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="refresh_tokens"
    )

    recorded_in_history = False  # one per sign-in and refresh (heatportal/audit.py)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.masked
