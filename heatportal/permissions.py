"""Who may do what: the one rule, used by every page, API view and admin (docs/permissions.md
gives it as a table, role x action x ownership).

An administrator is a signed-in, active user with the role Admin (or a superuser, who is one by
definition). Django's ``is_staff`` only lets a user sign in to the Django admin; what they may do
there is decided here too (``heatportal.admin``).

Each action names who may do it (:data:`RULES`):

- ``EVERYONE``: any signed-in user (any valid credential of the family, for an API);
- ``AUTHORS``: administrators and instructors;
- ``ADMINS``: administrators only;
- ``OWNER``: administrators, and the user who owns the object. An object without an owner
  belongs to the installation (the runner's ``main`` session and its ``Master data``, the demo
  data): only administrators may change or delete it.

:func:`allowed` answers; :func:`require` raises :class:`Forbidden` (a 403 in the API family's
error shape, Django's 403 page on a page).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import PermissionDenied

from heatportal.accounts.models import User
from heatportal.services import ServiceError


class Who(Enum):
    EVERYONE = "everyone signed in"
    AUTHORS = "Admin, Instructor"
    ADMINS = "Admin"
    OWNER = "Admin, or the owner"


RULES: dict[str, Who] = {
    # Scenario runner (document 003): sessions, datasets, scenarios.
    "runner.view": Who.EVERYONE,
    "runner.create": Who.EVERYONE,  # sessions, datasets (ETL, JSON, derive), scenarios, copies
    "runner.change": Who.OWNER,  # rename a session; run or reset a scenario
    "runner.delete": Who.OWNER,
    "runner.apply": Who.ADMINS,  # a scenario's battery dispatch as a site's schedule (issue 14)
    # HEAT v2 (document 000).
    "v2.view": Who.EVERYONE,  # projects, templates, sessions, public configuration
    "v2.author": Who.AUTHORS,  # create and edit projects
    "v2.configure": Who.ADMINS,  # platform configuration: write, read private values, delete
    "users.contact": Who.ADMINS,  # other users' e-mail addresses
    # Energy sites (documents 001/002): access groups, API keys, sites, device tokens.
    "sites.view": Who.EVERYONE,
    "sites.manage": Who.ADMINS,
    # Crowd requests (document 004): the installation-wide figures of the crowd index.
    "crowd.overview": Who.ADMINS,
    # The change history of every object.
    "changes.view": Who.ADMINS,
}


class Forbidden(ServiceError, PermissionDenied):
    """The user may not do this. A ServiceError (403 in an API family's shape) and Django's
    PermissionDenied (its 403 page), so that pages and APIs refuse alike."""

    status = 403


def is_admin(user: Any) -> bool:
    """Whether ``user`` (a User, an AnonymousUser or None) is an administrator."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.role == User.Role.ADMIN


def owns(user: Any, obj: Any) -> bool:
    owner_id = getattr(obj, "owner_id", None)
    return owner_id is not None and user is not None and user.is_authenticated and owner_id == user.pk


def allowed(user: Any, action: str, obj: Any = None) -> bool:
    """Whether ``user`` may do ``action`` (a key of :data:`RULES`) to ``obj``."""
    who = RULES[action]
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if is_admin(user):
        return True
    if who is Who.EVERYONE:
        return True
    if who is Who.AUTHORS:
        return user.role == User.Role.INSTRUCTOR
    if who is Who.OWNER:
        return owns(user, obj)
    return False


def require(user: Any, action: str, obj: Any = None, *, message: str | None = None) -> None:
    """Raise :class:`Forbidden` unless :func:`allowed`."""
    if not allowed(user, action, obj):
        raise Forbidden(message or refusal(action, obj))


def refusal(action: str, obj: Any = None) -> str:
    who = RULES[action]
    if who is Who.OWNER:
        if getattr(obj, "owner_id", None) is None:
            return f"Only an administrator may do this to {_name(obj)}: it belongs to the installation."
        return f"Only its owner or an administrator may do this to {_name(obj)}."
    return f"Only {who.value} may do this."


def _name(obj: Any) -> str:
    if obj is None:
        return "it"
    return f"{obj._meta.verbose_name} '{obj}'"


class AdminRoleBackend(BaseBackend):
    """Django's permission checks (the admin's add/change/delete/view) answered by this module:
    an administrator may do everything, and nobody else gets a model permission from their
    role. ``settings.AUTHENTICATION_BACKENDS`` lists it after Django's own backend, which still
    authenticates passwords (and answers for permissions granted by hand)."""

    def has_perm(self, user_obj, perm, obj=None):
        return is_admin(user_obj)

    def has_module_perms(self, user_obj, app_label):
        return is_admin(user_obj)
