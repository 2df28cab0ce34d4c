"""Make the installed algomancy packages importable on Python 3.13 (run by the peer's python).

algomancy 0.10.0 is written for Python 3.14, which accepts ``except A, B:`` (PEP 758) and
evaluates annotations lazily (PEP 649). On 3.13 the first is a syntax error and the second
breaks ``algomancy_utils/unit.py`` (an annotation names a class defined later in the module).
This rewrites ``except A, B:`` as ``except (A, B):`` and adds
``from __future__ import annotations`` to that module. Idempotent: patched lines no longer
match, and the import is added once. Byte-compiles the packages afterwards so that any line
this missed shows up here rather than when the peer serves its first request.
"""

from __future__ import annotations

import compileall
import re
import sys
import sysconfig
from pathlib import Path

SITE = Path(sysconfig.get_paths()["purelib"])
PACKAGES = ("algomancy_api", "algomancy_data", "algomancy_scenario", "algomancy_utils")
# `except A, B:` / `except A.B, C, D:`, no parentheses, no `as` (3.14 forbids `as` there too).
BARE_TUPLE = re.compile(r"^(?P<indent>\s*)except (?P<names>[\w.]+(?:\s*,\s*[\w.]+)+)\s*:(?P<rest>.*)$")
FUTURE = "from __future__ import annotations\n"


def rewrite_excepts(path: Path) -> int:
    lines = path.read_text().splitlines(keepends=True)
    changed = 0
    for index, line in enumerate(lines):
        match = BARE_TUPLE.match(line.rstrip("\n"))
        if match:
            lines[index] = f"{match['indent']}except ({match['names']}):{match['rest']}\n"
            changed += 1
    if changed:
        path.write_text("".join(lines))
    return changed


def add_future_import(path: Path) -> bool:
    text = path.read_text()
    if FUTURE in text:
        return False
    # After a module docstring if there is one (a __future__ import must come first otherwise).
    docstring = re.match(r'\s*(?:[rRuU]?("""|\'\'\')[\s\S]*?\1)\s*\n', text)
    head = docstring.end() if docstring else 0
    path.write_text(text[:head] + FUTURE + text[head:])
    return True


def main() -> int:
    total = 0
    for package in PACKAGES:
        root = SITE / package
        if not root.is_dir():
            print(f"missing package {package} in {SITE}", file=sys.stderr)
            return 1
        for path in sorted(root.rglob("*.py")):
            count = rewrite_excepts(path)
            if count:
                print(f"  {path.relative_to(SITE)}: {count} except clause(s) rewritten")
            total += count
    unit = SITE / "algomancy_utils" / "unit.py"
    if add_future_import(unit):
        print(f"  {unit.relative_to(SITE)}: from __future__ import annotations added")
    print(f"patched: {total} except clause(s)" if total else "patch: nothing left to rewrite")
    ok = all(compileall.compile_dir(SITE / package, quiet=1) for package in PACKAGES)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
