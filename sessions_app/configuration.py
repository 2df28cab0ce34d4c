"""The rules of platform configuration entries: names, value types, how a value is stored and
read back, and who may read it. The services (API, portal pages and admin alike) and the
selectors use them; none of them touches the database."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from heatportal.accounts.models import User
from heatportal.api.input import parse_json, text_problem
from heatportal.services import ServiceError
from sessions_app.models import PlatformConfiguration

logger = logging.getLogger(__name__)

BOOLEAN_TEXTS = ("true", "false")


@dataclass(frozen=True)
class _Parser:
    label: str
    parse: Callable[[str], Any]


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError(text)


def _parse_finite(text: str) -> float:
    value = float(text.strip())
    if not math.isfinite(value):  # NaN and infinities have no JSON form: no client could read them
        raise ValueError(text)
    return value


_PARSERS = {
    PlatformConfiguration.ValueType.STRING: _Parser("a string", str),
    PlatformConfiguration.ValueType.BOOLEAN: _Parser("a boolean", _parse_bool),
    PlatformConfiguration.ValueType.INTEGER: _Parser("an integer", lambda text: int(text.strip())),
    PlatformConfiguration.ValueType.FLOAT: _Parser("a finite number", _parse_finite),
    PlatformConfiguration.ValueType.JSON: _Parser("JSON", parse_json),
}


def _shown(text: str) -> str:
    """At most 100 characters of a refused value, escaped if it holds characters a message
    should not carry."""
    return text[:100].encode("unicode_escape").decode("ascii") if text_problem(text) else text[:100]


def config_value(value_type: int, text: str) -> Any:
    """The typed value of a stored configuration text, or ServiceError if it does not parse."""
    parser = _PARSERS[PlatformConfiguration.ValueType(value_type)]
    try:
        return parser.parse(text)
    except (ValueError, TypeError) as error:  # BadInput is a ValueError
        raise ServiceError(f"Invalid configuration value: '{_shown(text)}' is not {parser.label}.") from error


def config_value_or_text(config: PlatformConfiguration) -> Any:
    """The typed value of a stored configuration; its text as stored when that does not parse as
    its type (a row written before the value check, or by hand), so that one bad row never
    breaks the reading of all the others."""
    try:
        return config_value(config.value_type, config.value)
    except (ServiceError, ValueError):
        logger.warning("configuration %r: stored value is not of its type %s", config.name, config.value_type)
        return config.value


def config_text(value: Any) -> str:
    """How a value sent by a client is stored: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def config_value_normalise(value_type: int, text: str) -> str:
    """The text to store for a value written by a client (API, page or admin alike), or
    ServiceError. Booleans accept only ``true`` and ``false``, in any case, and are stored in
    lowercase; the other types are stored as sent once they parse. (Reading stays lenient with
    ``1``/``0``/``yes``/``no``, which rows written before this rule may hold.)"""
    if value_type == PlatformConfiguration.ValueType.BOOLEAN:
        canonical = text.strip().lower()
        if canonical not in BOOLEAN_TEXTS:
            raise ServiceError(
                f"Invalid configuration value: '{_shown(text)}' is not a boolean: use true or false."
            )
        return canonical
    config_value(value_type, text)
    return text


def config_name_check(name: str) -> None:
    """ServiceError unless ``name`` is hierarchical: parts separated by ``:``, none empty, and
    no surrounding space."""
    if not name or name != name.strip() or any(not part for part in name.split(":")):
        raise ServiceError("Invalid configuration name")


def config_value_type_check(value_type: int) -> None:
    if value_type not in PlatformConfiguration.ValueType.values:
        raise ServiceError(
            "Invalid configuration value type: use 0 string, 1 boolean, 2 integer, 3 float, 4 JSON."
        )


def config_validate(*, name: str, value_type: int, value: str) -> str:
    """Checks a configuration entry (its name, its type, its value against the type); returns
    the value to store. The one check of every write: API, portal pages and admin."""
    config_name_check(name)
    config_value_type_check(value_type)
    return config_value_normalise(value_type, value)


def config_readable(*, user: User, name: str) -> bool:
    """Whether ``user`` may read the configuration ``name``: administrators all, the others the
    names under the public prefixes."""
    if user.role == User.Role.ADMIN:
        return True
    return any(name == prefix or name.startswith(prefix + ":") for prefix in settings.PUBLIC_CONFIG_PREFIXES)
