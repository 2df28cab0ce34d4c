"""Requests schemathesis sent, from its NDJSON event logs: the total, and per status class."""

import collections
import json
import sys

statuses: collections.Counter[str] = collections.Counter()
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()  # noqa: SIM115 (a short script)
    except FileNotFoundError:
        continue
    for line in lines:
        event = json.loads(line).get("ScenarioFinished")
        if not event:
            continue
        for interaction in event["recorder"].get("interactions", {}).values():
            response = interaction.get("response")
            statuses[f"{response['status_code'] // 100}xx" if response else "no response"] += 1
by_class = ", ".join(f"{name}: {count}" for name, count in sorted(statuses.items()))
print(f"schemathesis requests: {sum(statuses.values())} ({by_class})")
