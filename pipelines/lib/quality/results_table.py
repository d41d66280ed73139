"""The quality schema's tables (`assets/quality/results_schema.sql`): per-rule outcomes and the scorecard."""

from __future__ import annotations

import duckdb

from pipelines.lib.duck import run_sql_file


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `quality` schema and its tables if absent, adding columns a working file lacks."""
    run_sql_file(con, "quality/results_schema.sql")
