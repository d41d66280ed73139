"""A small clean warehouse built in SQL (assets/quality/sample_warehouse.sql): test fixture and benchmark."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from pipelines.lib.duck import sql_text

SAMPLE_REFERENCE_DATE = dt.date(2026, 4, 15)


def run_statements(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> None:
    """Run a multi-statement SQL text, binding to each statement the `$name` parameters it uses."""
    for chunk in sql.split(";\n"):
        statement = "\n".join(line for line in chunk.splitlines() if not line.lstrip().startswith("--"))
        if statement.strip():
            con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})


def build_sample_warehouse(con: duckdb.DuckDBPyConnection, persons: int,
                           reference_date: dt.date = SAMPLE_REFERENCE_DATE) -> None:
    """Create staging, marts and ops tables for `persons` people, every rule of the suites satisfied."""
    run_statements(con, sql_text("quality/sample_warehouse.sql"), {"n": persons, "ref": reference_date})
