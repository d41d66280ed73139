"""requirements.lock: every package pinned with hashes, pyproject's pins in it, Dagster on one release."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(?P<extras>\[[a-z,]+\])?==(?P<version>\S+)$")
HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class Pin(NamedTuple):
    version: str
    hashes: int
    extras: str  # "[standard]", or "" for a pin without extras


def _lock() -> dict[str, Pin]:
    """Package → its pin, from requirements.lock's continued lines."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    entries: dict[str, Pin] = {}
    for requirement in re.split(r"\n(?=\S)", text):
        if requirement.startswith("#") or not requirement.strip():
            continue
        first, *options = requirement.replace("\\\n", " ").split()
        pin = PIN.match(first)
        assert pin, f"not an exact pin: {first}"
        bad = [o for o in options if not HASH.match(o)]
        assert not bad, f"{first}: unexpected options {bad}"
        entries[_canonical(pin["name"])] = Pin(pin["version"], len(options), pin["extras"] or "")
    return entries


@pytest.fixture(scope="module")
def lock() -> dict[str, Pin]:
    return _lock()


def test_every_package_is_pinned_with_hashes(lock: dict[str, Pin]) -> None:
    assert len(lock) > 100
    assert not [name for name, pin in lock.items() if pin.hashes == 0]


def test_pyproject_pins_are_the_locked_versions(lock: dict[str, Pin]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = [*project["project"]["dependencies"], *project["project"]["optional-dependencies"]["test"],
                *project["build-system"]["requires"]]
    for requirement in declared:
        pin = PIN.match(requirement)
        assert pin, f"pyproject.toml: {requirement} is not an exact pin"
        assert _canonical(pin["name"]) in lock, requirement
        assert lock[_canonical(pin["name"])].version == pin["version"], requirement


def test_dagster_packages_are_one_release(lock: dict[str, Pin]) -> None:
    """dagster 1.X.Y goes with its libraries 0.(X+16).Y (dagster-duckdb, dagster-postgres)."""
    major, minor, patch = lock["dagster"].version.split(".")
    assert major == "1"
    for name, pin in lock.items():
        if name.startswith("dagster-"):
            assert pin.version in (f"1.{minor}.{patch}", f"0.{int(minor) + 16}.{patch}"), (name, pin.version)


def test_packages_required_with_an_extra_are_pinned_with_it(lock: dict[str, Pin]) -> None:
    """pip's hash-checking mode refuses `uvicorn[standard]` (dagster-webserver's requirement) against a plain
    `uvicorn==` pin once PyPI has a newer uvicorn; the lock pins such packages with their extras."""
    wanted = subprocess.run([sys.executable, str(ROOT / "scripts" / "lock_extras.py")],
                            capture_output=True, text=True, check=True).stdout.split()
    assert "uvicorn[standard]" in wanted
    pinned = {name + pin.extras for name, pin in lock.items() if pin.extras}
    assert set(wanted) <= pinned, sorted(set(wanted) - pinned)
