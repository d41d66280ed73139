"""The benchmark's measure of what a monthly run changes in the published base (benchmarks/base_churn.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import base_churn


def _published(path: Path, rows: list[tuple]) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create table population_base (citizen_id varchar, age integer, in_hukou boolean, "
                "name_source varchar, reference_date date)")
    con.executemany("insert into population_base values (?, ?, ?, ?, date '2026-10-31')", rows)
    con.close()
    return path


def test_counts_rows_that_differ_by_kind_of_column(tmp_path: Path) -> None:
    before = _published(tmp_path / "before.duckdb", [
        ("A", 30, True, "hukou/20260930"), ("B", 40, True, "hukou/20260930"),
        ("C", 50, True, "hukou/20260930"), ("D", 60, None, "tax/20260930"), ("GONE", 1, True, "hukou/20260930"),
    ])
    after = _published(tmp_path / "after.duckdb", [
        ("A", 30, True, "hukou/20261031"),   # provenance only
        ("B", 41, True, "hukou/20261031"),   # a birthday
        ("C", 50, False, "hukou/20261031"),  # moved out
        ("D", 60, None, "tax/20260930"),     # unchanged (NULL equals NULL)
        ("NEW", 0, True, "hukou/20261031"),
    ])
    c = base_churn.base_churn(before, after)
    assert (c["persons_before"], c["persons_after"], c["kept"], c["added"], c["removed"]) == (5, 5, 4, 1, 1)
    assert (c["differ_any_column"], c["differ_without_provenance"], c["differ_without_provenance_or_rolling"]) == (
        3, 2, 1)
    assert c["per_column"] == {"name_source": 3, "age": 1, "in_hukou": 1}
    table = "\n".join(base_churn.churn_markdown([{"label": "monthly", "base_churn": c}, {"label": "full"}]))
    expected = "| monthly | 5 | 1 | 1 | 3 (75.0%) | 2 (50.0%) | 1 (25.0%) | name_source 75%, age 25%, in_hukou 25% |"
    assert expected in table
