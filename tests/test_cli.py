"""The `popbase` command tells a user what is wrong, without a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

POPBASE = str(Path(sys.executable).parent / "popbase")


def _popbase(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {"PATH": str(Path(sys.executable).parent), "GX_ANALYTICS_ENABLED": "false"}
    return subprocess.run([POPBASE, *args], capture_output=True, text=True, env={**base, **(env or {})}, timeout=300)


@pytest.mark.parametrize("persons", ["abc", "0", "-5"])
def test_generate_rejects_a_bad_person_count(tmp_path: Path, persons: str) -> None:
    result = _popbase("generate", "--persons", persons, "--out", str(tmp_path))
    assert result.returncode != 0
    assert "--persons" in result.stderr and "Traceback" not in result.stderr


def test_generate_into_an_unwritable_place_says_so() -> None:
    result = _popbase("generate", "--persons", "10", "--out", "/proc/popbase")
    assert result.returncode == 1
    assert "cannot write to /proc/popbase" in result.stderr and "Traceback" not in result.stderr


def test_generate_writes_a_delivery_set(tmp_path: Path) -> None:
    result = _popbase("generate", "--persons", "300", "--seed", "3", "--months", "1", "--out", str(tmp_path / "l"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "l" / "hukou" / "20260831" / "_MANIFEST.json").exists()
    assert (tmp_path / "l" / "_truth" / "persons.parquet").exists()


def _run_env(tmp_path: Path) -> dict[str, str]:
    """A valid `popbase run` environment on an empty landing directory."""
    (tmp_path / "landing").mkdir()
    return {
        "POPBASE_LANDING_DIR": str(tmp_path / "landing"),
        "POPBASE_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
        "POPBASE_WORK_DIR": str(tmp_path / "work"),
        "POPBASE_PSEUDONYM_KEY": "k" * 32,
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"POPBASE_LANDING_DIR": "/nonexistent/landing"}, "landing directory /nonexistent/landing does not exist"),
        ({"POPBASE_WAREHOUSE_DIR": "/proc/popbase"}, "cannot write to /proc/popbase"),
        ({"POPBASE_PSEUDONYM_KEY": ""}, "POPBASE_PSEUDONYM_KEY must be set to a secret of at least 32 bytes"),
        ({"POPBASE_PSEUDONYM_KEY": "…"}, "POPBASE_PSEUDONYM_KEY must be set to a secret of at least 32 bytes"),
        ({"POPBASE_MEMORY_LIMIT": "lots"}, "POPBASE_MEMORY_LIMIT='lots' is not a size"),
        ({"POPBASE_REFERENCE_DATE": "31.10.2026"}, "POPBASE_REFERENCE_DATE='31.10.2026' is not a date"),
        ({"POPBASE_THREADS": "two"}, "POPBASE_THREADS='two' must be a positive whole number"),
        ({"POPBASE_KEEP_EVENT_MONTHS": "6"}, "POPBASE_KEEP_EVENT_MONTHS='6' must be a whole number of at least 12"),
    ],
)
def test_run_says_what_is_wrong(tmp_path: Path, env: dict[str, str], message: str) -> None:
    result = _popbase("run", env={**_run_env(tmp_path), **env})
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_run_on_an_empty_landing_dir_says_nothing_was_delivered(tmp_path: Path) -> None:
    result = _popbase("run", env=_run_env(tmp_path))
    assert result.returncode == 1
    assert "no delivery has been loaded" in result.stderr and "Traceback" not in result.stderr
