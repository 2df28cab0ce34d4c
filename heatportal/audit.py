"""The history of changes: who changed which object, when, and each field before and after.

django-auditlog writes the history: every save or delete of a model in :data:`TRACKED` adds a
``auditlog.LogEntry`` row (content type, primary key and ``str()`` of the object, the action,
the changed fields as ``{field: [before, after]}``). Rows never point at the object by a
foreign key, so a deleted object's history stays. This module adds what auditlog leaves to us:

- **What is tracked, and what never is.** :func:`register` is the one list (called from
  ``HeatportalConfig.ready``): one place to read every excluded field next to the reason.
  Secret hashes, password hashes, the encrypted webhook secret and the values of ``private:``
  configuration never reach a row; ``last_used_at`` (written by every API call) and other
  bookkeeping columns are left out because nobody changed them. Session tokens (issued by a
  HEAT Auth sign-in or refresh, and rotated) are sign-ins, not changes: only offline tokens are
  recorded, which people create and revoke.
- **Who.** An :class:`AuditContext` for the duration of a unit of work says how the change
  came in: ``page`` or ``admin`` (:class:`AuditMiddleware`: the signed-in user), ``api``
  (:class:`heatportal.api.views.ApiView` after authentication: the user, if the credential has
  one, and the credential's masked form, never its secret), ``command``
  (:class:`AuditedCommand`: the command's name). Anything else (Celery tasks, a shell) is
  recorded with no actor and ``via: system``. :func:`entry_fill` puts it on each row.
- **Request id.** ``LogEntry.cid`` holds one id per request: the client's ``X-Request-ID``
  when it sends a plausible one, else a new random one, made only when a row is written.
- **Writes that skip signals.** ``QuerySet.update()`` sends none; the few that change a
  tracked field (revoking a credential) record it with :func:`audit_record_update`.

Why django-auditlog (docs/audit.md): maintained (Jazzband), plain tables that work the same on
SQLite and PostgreSQL, before/after per field, masking and exclusion per model.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.management.base import BaseCommand
from django.db import models
from django.http import HttpRequest

HIDDEN = "(hidden)"
# Columns of every credential (heatportal/credentials.py) that are never recorded.
CREDENTIAL_EXCLUDED = ["secret_hash", "last_used_at"]
# (model label, fields never recorded). Why each is left out: the module docstring.
TRACKED: tuple[tuple[str, list[str]], ...] = (
    ("accounts.User", ["password", "last_login"]),
    ("accounts.AccessToken", CREDENTIAL_EXCLUDED),
    ("accounts.RefreshToken", CREDENTIAL_EXCLUDED),
    ("sites_app.AccessGroup", []),
    ("sites_app.Site", ["reported_at", "revision"]),  # written by telemetry and schedules
    ("sites_app.SiteApiKey", CREDENTIAL_EXCLUDED),
    ("sites_app.SiteDeviceToken", CREDENTIAL_EXCLUDED),
    # The secret itself is encrypted; its rotation shows as webhook_secret_rotated_at.
    ("crowd_app.CrowdAccount", ["webhook_secret_encrypted"]),
    ("crowd_app.CrowdApiKey", CREDENTIAL_EXCLUDED),
    ("sessions_app.Project", ["updated_at"]),
    ("sessions_app.SessionTemplate", []),
    # ``value`` of private: names is masked by entry_fill.
    ("sessions_app.PlatformConfiguration", ["updated_at"]),
    ("scenarios_app.RunnerSession", []),
)
REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
_PLAUSIBLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass
class AuditContext:
    """How the changes made now came in. ``via``: page, admin, api or command."""

    via: str
    request: HttpRequest | None = None
    command: str = ""
    _request_id: str | None = field(default=None, repr=False)

    def request_id(self) -> str | None:
        if self.request is None:
            return None
        if self._request_id is None:
            given = self.request.META.get(REQUEST_ID_HEADER, "")
            self._request_id = given if _PLAUSIBLE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        return self._request_id

    def actor(self) -> Any:
        user = getattr(self.request, "user", None)
        # A key's or a device token's request has a stand-in user, not a person (its credential
        # is named in details()).
        is_person = isinstance(user, models.Model) and getattr(user, "is_authenticated", False)
        return user if is_person else None

    def details(self) -> dict[str, str]:
        details = {"via": self.via}
        if self.command:
            details["command"] = self.command
        if self.via == "api" and self.request is not None:
            credential = getattr(self.request, "auth", None)
            masked = getattr(credential, "masked", None)
            if (
                masked and credential is not None
            ):  # a credential row: its public part and kind, never the secret
                details["credential"] = masked
                details["credential_type"] = str(credential._meta.verbose_name)
            elif self.actor() is not None:
                details["credential"] = "session cookie"
        return details


_current: ContextVar[AuditContext | None] = ContextVar("heatportal_audit", default=None)


@contextmanager
def audit_context(*, via: str, request: HttpRequest | None = None, command: str = "") -> Iterator[None]:
    """Record the changes made inside as coming from ``via`` (and ``request`` or ``command``)."""
    token = _current.set(AuditContext(via=via, request=request, command=command))
    try:
        yield
    finally:
        _current.reset(token)


def request_id() -> str | None:
    """The current request's id (``AUDITLOG_CID_GETTER``: auditlog stores it as ``cid``)."""
    context = _current.get()
    return context.request_id() if context is not None else None


class AuditMiddleware:
    """Pages and the admin: changes are the signed-in user's (after AuthenticationMiddleware)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    @staticmethod
    def _via(request: HttpRequest) -> str:
        return "admin" if request.path.startswith("/admin/") else "page"

    def __call__(self, request: HttpRequest):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        with audit_context(via=self._via(request), request=request):
            return self.get_response(request)

    async def __acall__(self, request: HttpRequest):
        with audit_context(via=self._via(request), request=request):
            return await self.get_response(request)


class AuditedCommand(BaseCommand):
    """Base of the portal's management commands: their changes name the command."""

    def execute(self, *args: Any, **options: Any) -> Any:
        with audit_context(via="command", command=self.__module__.rsplit(".", 1)[-1]):
            return super().execute(*args, **options)


# --- Receivers ---------------------------------------------------------------------------------


def is_session_token(instance: models.Model) -> bool:
    """An access token from a sign-in or refresh, or a refresh token: not recorded (the token
    models say which of their rows are, ``recorded_in_history``)."""
    return not getattr(instance, "recorded_in_history", True)


def skip_session_tokens(sender: Any, instance: models.Model, **kwargs: Any) -> bool:
    """auditlog's ``pre_log``: False stops the row."""
    return not is_session_token(instance)


def entry_fill(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``pre_save`` of a LogEntry: who and how (the current AuditContext), and no private value."""
    if instance.pk is None:
        context = _current.get()
        details = context.details() if context is not None else {"via": "system"}
        if context is not None:
            instance.actor = instance.actor or context.actor()
            if instance.actor is not None:
                instance.actor_email = instance.actor.email or None
            if context.request is not None and instance.remote_addr is None:
                instance.remote_addr = context.request.META.get("REMOTE_ADDR") or None
        instance.additional_data = {**(instance.additional_data or {}), **details}
        _drop_relations(instance)
    _mask_private_configuration(instance)


def _drop_relations(entry: Any) -> None:
    """auditlog lists an object's reverse relations among a creation's or deletion's fields
    ("sites_app.Site.None"): keep only the object's own columns."""
    model = entry.content_type.model_class()
    if model is None or not isinstance(entry.changes, dict):
        return
    columns = {column.name for column in model._meta.concrete_fields}
    entry.changes = {name: values for name, values in entry.changes.items() if name in columns}


def _mask_private_configuration(entry: Any) -> None:
    """A model with ``is_private_name(name)`` (platform configuration) keeps the values of its
    private rows out of the history, whatever the row was called before or after."""
    changes = entry.changes
    if not isinstance(changes, dict) or "value" not in changes:
        return
    is_private_name = getattr(entry.content_type.model_class(), "is_private_name", None)
    if is_private_name is None:
        return
    names = [entry.object_repr, *changes.get("name", [])]
    if any(is_private_name(str(name)) for name in names):
        changes["value"] = [value if value in ("", "None", None) else HIDDEN for value in changes["value"]]


def audit_record_update(instance: models.Model, **before: Any) -> None:
    """Record a change that a ``QuerySet.update()`` made to ``instance`` (which holds the new
    values already); ``before`` gives the old values of the changed fields."""
    from auditlog.context import auditlog_disabled
    from auditlog.diff import model_instance_diff
    from auditlog.models import LogEntry
    from auditlog.registry import auditlog

    if auditlog_disabled.get() or not auditlog.contains(type(instance)) or is_session_token(instance):
        return
    old = copy.copy(instance)
    for name, value in before.items():
        setattr(old, name, value)
    changes = model_instance_diff(old, instance, fields_to_check=list(before))
    if changes:
        LogEntry.objects.log_create(instance, action=LogEntry.Action.UPDATE, changes=changes)


def register() -> None:
    """Track the models of :data:`TRACKED` (``HeatportalConfig.ready``)."""
    from auditlog.models import LogEntry
    from auditlog.registry import auditlog
    from auditlog.signals import pre_log
    from django.apps import apps
    from django.db.models.signals import pre_save

    for label, excluded in TRACKED:
        model = apps.get_model(label)
        auditlog.register(model, exclude_fields=list(excluded))
    for label in ("accounts.AccessToken", "accounts.RefreshToken"):
        pre_log.connect(skip_session_tokens, sender=apps.get_model(label), dispatch_uid=f"audit-skip-{label}")
    pre_save.connect(entry_fill, sender=LogEntry, dispatch_uid="audit-entry-fill")
