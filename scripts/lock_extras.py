"""Packages that an installed package requires with extras, and the lock pins that carry them.

pip's hash-checking mode (`--require-hashes`) refuses a dependency asked for with an extra (dagster-webserver
wants `uvicorn[standard]`) unless the lock pins it with that extra; uv's `pip compile` drops extras.
Run with the project's interpreter:
    .venv/bin/python scripts/lock_extras.py          prints `name[extra,…]`, one per line
    … | .venv/bin/python scripts/lock_extras.py --pin   copies stdin, `name==` becoming `name[extra,…]==`
scripts/lock.sh uses `--pin`; tests/unit/test_lock.py checks the lock has every one.
"""

from __future__ import annotations

import sys
from importlib.metadata import distributions

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def required_extras() -> dict[str, list[str]]:
    """Canonical package name → the sorted extras that installed packages require of it (unconditionally)."""
    installed = {canonicalize_name(d.metadata["Name"]) for d in distributions()}
    wanted: dict[str, set[str]] = {}
    for dist in distributions():
        for text in dist.requires or []:
            requirement = Requirement(text)
            if not requirement.extras or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
                continue
            name = canonicalize_name(requirement.name)
            if name in installed:
                wanted.setdefault(name, set()).update(requirement.extras)
    return {name: sorted(extras) for name, extras in sorted(wanted.items())}


def with_extras(line: str, extras: dict[str, list[str]]) -> str:
    """A lock line `name==…` as `name[extra,…]==…` when `name` is required with extras; any other line as is."""
    name, sep, rest = line.partition("==")
    if sep and canonicalize_name(name) in extras:
        return f"{name}[{','.join(extras[canonicalize_name(name)])}]=={rest}"
    return line


if __name__ == "__main__":
    found = required_extras()
    if sys.argv[1:] == ["--pin"]:
        sys.stdout.writelines(with_extras(line, found) for line in sys.stdin)
    else:
        for package, extras in found.items():
            print(f"{package}[{','.join(extras)}]")
