"""Shared fixtures: one small end-to-end pipeline run reused by the tests that read its output."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from pipelines.lib.generator import generate
from pipelines.runner import run_all
from pipelines.settings import Settings, load_settings

E2E_PERSONS = 5_000
E2E_DEFECT_RATE = 0.05  # five times the default, so that every defect kind and flag has cases
E2E_KEY = "test-pseudonym-key-0123456789abcdef"


@dataclass(frozen=True)
class PipelineRun:
    """A generated delivery set, the settings it ran with, and the Dagster run that processed it."""

    landing: Path
    settings: Settings
    instance: dg.DagsterInstance
    result: dg.ExecuteInProcessResult


@pytest.fixture(scope="session")
def e2e_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineRun]:
    root = tmp_path_factory.mktemp("e2e")
    landing = root / "landing"
    generate(E2E_PERSONS, 11, landing, months=3, defect_rate=E2E_DEFECT_RATE, delivery_defects=True)
    settings = load_settings(
        {
            "POPBASE_LANDING_DIR": str(landing),
            "POPBASE_WAREHOUSE_DIR": str(root / "warehouse"),
            "POPBASE_WORK_DIR": str(root / "work"),
            "POPBASE_PSEUDONYM_KEY": E2E_KEY,
            "POPBASE_MEMORY_LIMIT": "2GB",
            "POPBASE_KEEP_SNAPSHOTS": "1",  # every superseded snapshot leaves the working file
            "POPBASE_KEEP_EVENT_MONTHS": "12",  # tax events older than the base reads leave it too
        }
    )
    home = root / "dagster_home"
    home.mkdir()
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        result = run_all(settings)
        yield PipelineRun(landing, settings, dg.DagsterInstance.get(), result)
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous
