"""Print `name[extra,…]` for every package that an installed package requires with extras.

pip's hash-checking mode (`--require-hashes`) refuses a dependency asked for with an extra (dagster-webserver
wants `uvicorn[standard]`) unless the lock pins it with that extra; uv's `pip compile` drops extras.
scripts/lock.sh writes these pins with their extras; tests/unit/test_lock.py checks the lock has them.
Run with the project's interpreter: `.venv/bin/python scripts/lock_extras.py`.
"""

from __future__ import annotations

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


if __name__ == "__main__":
    for package, extras in required_extras().items():
        print(f"{package}[{','.join(extras)}]")
