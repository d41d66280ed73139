"""End to end against the generator's ground truth: generate, run every asset in-process, measure.

The floors sit below what the pipeline measures now (benchmarks/results/accuracy.md), with margin for the
small sample: the point is to catch regressions in staging, the population SQL and the flags.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import E2E_PERSONS, PipelineRun

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import accuracy

MIN_CASES = 10  # rates over fewer cases are too noisy to hold to a floor


@pytest.fixture(scope="module")
def measured(e2e_run: PipelineRun) -> dict[str, Any]:
    return accuracy.evaluate(e2e_run.landing, e2e_run.settings.population_file)


def test_coverage_and_attributes(measured: dict[str, Any]) -> None:
    base = measured["base"]
    assert base["evaluated"] > 0.9 * base["appearing_in_feeds"]
    assert base["coverage"] >= 0.99
    floors = {"residence_district_code": 0.85}  # in-city 人户分离 without registration: hukou county kept
    for a in base["attributes"]:
        assert a["share"] >= floors.get(a["attribute"], 0.97), a


def test_quarantine_reasons(measured: dict[str, Any]) -> None:
    q = measured["quarantine"]
    for r in q["reasons"]:
        if r["expected"] >= MIN_CASES:
            # ID_PRECISION_LOST: an Excel-truncated ID ending 000 whose check character happens to fit is loaded
            # (a known staging limit, ~1 in 11 of those rows)
            floor = 0.9 if r["reason"] == "ID_PRECISION_LOST" else 0.95
            assert r["recall"] >= floor, r
        if r["quarantined"] >= MIN_CASES:
            assert r["precision"] >= 0.95, r
    assert q["quarantined_rows_without_defect"] <= 0.02 * q["quarantined_rows"]
    assert q["repaired"]["recall"] >= 0.99, q["repaired"]
    assert q["duplicate"]["recall"] >= 0.95 and q["duplicate"]["precision"] >= 0.95, q["duplicate"]


def test_flags(measured: dict[str, Any]) -> None:
    # ACTIVITY_AFTER_DEATH precision is low because the generator's clean property rows include units
    # registered after the owner's recorded death without listing them as defects (see accuracy.md)
    no_precision_floor = {"ACTIVITY_AFTER_DEATH"}
    for f in measured["flags"]:
        if f["expected"] >= MIN_CASES:
            assert f["recall"] >= 0.9, f
        if f["flagged"] >= MIN_CASES and f["flag"] not in no_precision_floor:
            assert f["precision"] >= 0.9, f


def test_actual_population(measured: dict[str, Any]) -> None:
    ap = measured["actual_population"]
    assert ap["share_residents_excluded"] <= 0.03, ap
    assert ap["share_counted_not_resident"] <= 0.03, ap


def test_markdown_report(measured: dict[str, Any]) -> None:
    md = accuracy.to_markdown(measured, {"persons": E2E_PERSONS, "seed": 11})
    assert "| marital_status |" in md and "| KEY_CONFLICT |" in md and "| BIGAMY |" in md
