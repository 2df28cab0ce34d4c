"""The site's rules for a batch of schedule commands, and what a batch stores of them.

The *shape* of a batch is checked by ``sites_app.api.inputs.ScheduleBatchIn``; the rules here
need the site's assets: each asset/type once, assets the site has, entries that start before
they end, within the asset's rated limits (or 0-100 %), not overlapping in one command, BESS
active power and optimal soc never at once. Pure: ``sites_app.services.schedule_batch_apply``
reads the assets and writes the batch.
"""

from __future__ import annotations

from typing import Any

from sites_app.api.inputs import (
    Problems,
    ScheduleBatchIn,
    ScheduleCommandIn,
    ScheduleEntryIn,
    schedule_refusal,
)
from sites_app.api.outputs import format_time, number
from sites_app.models import MUTUALLY_EXCLUSIVE, PERCENT_TYPES, Asset

Pair = tuple[str, str]
NumberedEntry = tuple[int, ScheduleEntryIn]  # an entry and its index in its command
# A command that passed the per-command rules: its index, itself, its valid entries.
CheckedCommand = tuple[int, ScheduleCommandIn, list[NumberedEntry]]


def schedule_commands_check(batch: ScheduleBatchIn, *, assets: dict[str, Asset]) -> list[ScheduleCommandIn]:
    """The site's rules for a batch whose shape is right (``ScheduleBatchIn``). Returns the
    commands with only their valid entries; raises ServiceError naming every offending command
    and entry."""
    problems = Problems()
    seen: dict[Pair, int] = {}
    commands: dict[Pair, CheckedCommand] = {}
    for index, command in enumerate(batch.schedules):
        where: dict[str, Any] = {"asset": command.asset, "type": command.type}
        if command.pair in seen:
            problems.add(
                f"{command.asset}/{command.type} appears more than once "
                f"(first in command {seen[command.pair]}).",
                command=index,
                **where,
            )
            continue
        seen[command.pair] = index
        asset = assets.get(command.asset)
        if asset is None:
            problems.add(f"This site has no {command.asset} asset.", command=index, **where)
            continue
        entries = _valid_entries(command, asset=asset, where={"command": index, **where}, problems=problems)
        commands[command.pair] = (index, command, entries)
    _check_exclusive(commands, problems=problems)
    if problems.items:
        raise schedule_refusal(problems.items)
    return [command for _index, command, _entries in commands.values()]


def _valid_entries(
    command: ScheduleCommandIn, *, asset: Asset, where: dict[str, Any], problems: Problems
) -> list[NumberedEntry]:
    """The command's entries that start before they end (each one's value checked too), after
    noting the overlaps among them."""
    entries = []
    for entry_index, entry in enumerate(command.entries):
        if entry.startAt >= entry.endAt:
            problems.add("startAt must be before endAt.", entry=entry_index, field="startAt", **where)
            continue
        _check_value(
            entry.value, index=entry_index, kind=command.type, asset=asset, where=where, problems=problems
        )
        entries.append((entry_index, entry))
    _check_overlaps(entries, where=where, problems=problems)
    return entries


def _check_value(
    value: float, *, index: int, kind: str, asset: Asset, where: dict[str, Any], problems: Problems
) -> None:
    if kind in PERCENT_TYPES:
        low, high, unit = 0.0, 100.0, "%"
        bound = "0 to 100"
    else:
        low, high, unit = asset.rated_lower_kw, asset.rated_upper_kw, " kW"
        bound = f"the {asset.type} asset's rated limits"
    if not low <= value <= high:
        problems.add(
            f"value {value:g}{unit} is outside {bound} ({low:g} to {high:g}{unit}).",
            entry=index,
            field="value",
            **where,
        )


def _check_overlaps(entries: list[NumberedEntry], *, where: dict[str, Any], problems: Problems) -> None:
    """Each entry that starts before the latest-ending earlier one has ended."""
    latest: NumberedEntry | None = None
    for entry_index, entry in sorted(entries, key=lambda item: (item[1].startAt, item[0])):
        if latest is not None and entry.startAt < latest[1].endAt:
            problems.add(
                f"Entry overlaps entry {latest[0]} of the same command.",
                entry=entry_index,
                overlapsEntry=latest[0],
                **where,
            )
        if latest is None or entry.endAt > latest[1].endAt:
            latest = (entry_index, entry)


def _overlaps(a: ScheduleEntryIn, b: ScheduleEntryIn) -> bool:
    return a.startAt < b.endAt and b.startAt < a.endAt


def _check_exclusive(commands: dict[Pair, CheckedCommand], *, problems: Problems) -> None:
    """BESS active power and optimal soc never at once: each overlap of the two commands."""
    for pair, other_pair in MUTUALLY_EXCLUSIVE.items():
        if pair > other_pair or pair not in commands or other_pair not in commands:
            continue  # each exclusive couple once
        (first_index, first, first_entries), (second_index, second, second_entries) = (
            commands[pair],
            commands[other_pair],
        )
        for a_index, a in first_entries:
            for b_index, b in second_entries:
                if _overlaps(a, b):
                    problems.add(
                        f"BESS {first.type} and {second.type} are mutually exclusive: entry {a_index} of "
                        f"command {first_index} overlaps entry {b_index} of command {second_index}.",
                        command=second_index,
                        asset=second.asset,
                        type=second.type,
                        entry=b_index,
                    )


def cleared_pairs(commands: list[ScheduleCommandIn]) -> set[Pair]:
    """The asset/types whose not-yet-ended entries a batch replaces: its commands' own, and the
    BESS pair exclusive with each (active power clears optimal soc and vice versa)."""
    cleared = {command.pair for command in commands}
    return cleared | {MUTUALLY_EXCLUSIVE[pair] for pair in cleared if pair in MUTUALLY_EXCLUSIVE}


def stored_commands(commands: list[ScheduleCommandIn]) -> list[dict[str, Any]]:
    """The commands as a batch stores them (``ScheduleBatch.commands``), in the API's wire format."""
    return [
        {
            "asset": command.asset,
            "type": command.type,
            "entries": [
                {"startAt": format_time(e.startAt), "endAt": format_time(e.endAt), "value": number(e.value)}
                for e in command.entries
            ],
        }
        for command in commands
    ]
