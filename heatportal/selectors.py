"""Reads of the history of changes (heatportal/audit.py): the Changes page and an object's
history. Each entry is turned into a :class:`ChangeRow`, what both pages show."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import reverse
from django.utils import timezone

from heatportal import audit
from heatportal.labels import kind_label

ACTIONS = {
    LogEntry.Action.CREATE: "created",
    LogEntry.Action.UPDATE: "changed",
    LogEntry.Action.DELETE: "deleted",
}
# The page of each kind of object: (URL name, attribute that gives its argument).
OBJECT_PAGES: dict[str, tuple[str, str]] = {
    "sites_app.accessgroup": ("sites:group", "pk"),
    "sites_app.site": ("sites:site", "pk"),
    "sites_app.siteapikey": ("sites:group", "access_group_id"),
    "sites_app.sitedevicetoken": ("sites:site", "site_id"),
    "sites_app.schedulebatch": ("sites:site", "site_id"),  # the gateway's acknowledgements
    "crowd_app.crowdaccount": ("requests:account", "pk"),
    "crowd_app.crowdapikey": ("requests:account", "account_id"),
    "sessions_app.project": ("sessions:project", "pk"),
    "sessions_app.platformconfiguration": ("sessions:config-edit", "pk"),
    "scenarios_app.runnersession": ("scenarios:session", "pk"),
}
# Kinds whose page takes no argument.
LIST_PAGES = {"sessions_app.sessiontemplate": "sessions:templates", "accounts.accesstoken": "account:tokens"}


@dataclass(frozen=True)
class FieldChange:
    name: str
    before: str | None  # None: the field had no value (a creation) or has none now (a deletion)
    after: str | None


@dataclass
class ChangeRow:
    """One entry as the pages show it."""

    entry: LogEntry
    kind: str
    action: str
    who: str
    via: str
    url: str | None = None
    changes: list[FieldChange] = field(default_factory=list)


def content_type_list(*, tracked: bool = False) -> list[ContentType]:
    """Kinds of object, by name; with ``tracked``, only those the history holds."""
    if not tracked:
        return sorted(ContentType.objects.all(), key=kind_label)
    wanted = [apps.get_model(label) for label, _excluded in audit.TRACKED]
    types = ContentType.objects.get_for_models(*wanted)
    return sorted(types.values(), key=kind_label)


def change_list(
    *,
    kind: int | None = None,
    actor: str = "",
    action: int | None = None,
    since: date | None = None,
    until: date | None = None,
    text: str = "",
) -> models.QuerySet[LogEntry]:
    """Entries, newest first, filtered: kind of object (content type id), actor (user name;
    "command X" finds a command's), action, days (inclusive, in the portal's time zone), text of
    the object or its id."""
    entries: models.QuerySet[LogEntry] = LogEntry.objects.select_related("actor", "content_type").order_by(
        "-timestamp", "-pk"
    )
    if kind is not None:
        entries = entries.filter(content_type_id=kind)
    if actor:
        if actor.startswith("command "):
            entries = entries.filter(additional_data__command=actor.removeprefix("command ").strip())
        else:
            entries = entries.filter(actor__username__iexact=actor)
    if action is not None:
        entries = entries.filter(action=action)
    zone = timezone.get_current_timezone()
    if since is not None:
        entries = entries.filter(timestamp__gte=datetime.combine(since, time.min, tzinfo=zone))
    if until is not None:
        entries = entries.filter(
            timestamp__lt=datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)
        )
    if text:
        entries = entries.filter(models.Q(object_repr__icontains=text) | models.Q(object_pk=text))
    return entries


def change_history(obj: models.Model, *, limit: int = 50) -> list[ChangeRow]:
    """The latest ``limit`` entries of one object, newest first."""
    entries = (
        LogEntry.objects.get_for_object(obj)
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-pk")
    )
    return change_row_list(list(entries[:limit]), links=False)


def change_row_list(entries: list[LogEntry], *, links: bool = True) -> list[ChangeRow]:
    """Rows of ``entries``; with ``links``, each row of an object that still exists links to
    its page (one query per kind of object on the list)."""
    rows = [
        ChangeRow(
            entry=entry,
            kind=kind_label(entry.content_type),
            action=ACTIONS.get(entry.action, "accessed"),
            who=_who(entry),
            via=(entry.additional_data or {}).get("via", ""),
            changes=_changes(entry),
        )
        for entry in entries
    ]
    if links:
        urls = _object_urls(entries)
        for row in rows:
            row.url = urls.get((row.entry.content_type_id, row.entry.object_pk))
    return rows


def _who(entry: LogEntry) -> str:
    data = entry.additional_data or {}
    if data.get("via") == "command":
        return f"command {data.get('command', '')}".strip()
    credential = data.get("credential")
    if entry.actor is not None:
        name = entry.actor.username
        return f"{name} with {credential}" if credential and credential != "session cookie" else name
    if entry.actor_email or entry.actor_id:
        return entry.actor_email or "a deleted user"
    if credential:
        return f"{data.get('credential_type', 'credential')} {credential}"
    return "system"


def _changes(entry: LogEntry) -> list[FieldChange]:
    model = entry.content_type.model_class()
    # A creation's id and creation time repeat what the row already says.
    implied = (
        {"created_at", model._meta.pk.name if model else "id"}
        if entry.action == LogEntry.Action.CREATE
        else set()
    )
    changes = []
    for name, values in sorted((entry.changes or {}).items()):
        if name in implied:
            continue
        if not isinstance(values, list | tuple) or len(values) != 2:
            continue  # many-to-many entries: not tracked here
        before, after = (None if value in (None, "None") else str(value) for value in values)
        if before is None and after in (None, ""):
            continue  # a creation's empty field says nothing
        try:
            label = str(model._meta.get_field(name).verbose_name) if model else name
        except (FieldDoesNotExist, AttributeError):  # a column since removed, a relation
            label = name
        changes.append(FieldChange(label, before, after))
    return changes


def _object_urls(entries: list[LogEntry]) -> dict[tuple[int, str], str]:
    wanted: dict[ContentType, set[str]] = defaultdict(set)
    for entry in entries:
        wanted[entry.content_type].add(entry.object_pk)
    urls: dict[tuple[int, str], str] = {}
    for content_type, pks in wanted.items():
        model = content_type.model_class()
        if model is None:
            continue
        label = model._meta.label_lower
        for pk, argument in _existing(model, label, pks):
            url = _url(label, argument)
            if url:
                urls[(content_type.pk, str(pk))] = url
    return urls


def _existing(model: type[models.Model], label: str, pks: set[str]) -> list[tuple[Any, Any]]:
    attribute = OBJECT_PAGES.get(label, ("", "pk"))[1]
    try:
        rows = model._base_manager.filter(pk__in=list(pks)).values_list("pk", attribute)
        return list(rows)
    except (ValueError, TypeError):  # a stored pk that is not of the model's type
        return []


def _url(label: str, argument: Any) -> str | None:
    if label in LIST_PAGES:
        return reverse(LIST_PAGES[label])
    if label in OBJECT_PAGES:
        return reverse(OBJECT_PAGES[label][0], args=[argument])
    if label == "accounts.user":
        return reverse("admin:accounts_user_change", args=[argument])
    return None
