"""DuckDB connections with bounded memory, and SQL files run with parameters."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from pipelines.feeds import PROJECT_ROOT

SQL_ROOT = PROJECT_ROOT / "assets"
MACRO_DIR = SQL_ROOT / "macros"
# DuckDB's memory cap (POPBASE_MEMORY_LIMIT overrides it). The process peaks 0.7–0.9 GB above it (Python,
# Dagster, GX, DuckDB's own allocations), so 4.5 GB keeps a 10M-person run under the 6 GB budget with room to
# spare; at 4 GB population_base spilled 2.4 GB and took 53 s, at 4.5 GB 41 s (benchmarks/results).
DEFAULT_MEMORY_LIMIT = "4.5GB"


def connect(
    database: Path | str,
    *,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    temp_directory: Path | None = None,
    threads: int | None = None,
    read_only: bool = False,
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file with a memory cap and a spill directory; nothing is ever downloaded."""
    config: dict[str, Any] = {
        "memory_limit": memory_limit,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
        "preserve_insertion_order": False,
    }
    if temp_directory is not None:
        Path(temp_directory).mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(temp_directory)
    if threads:
        config["threads"] = threads
    return duckdb.connect(str(database), read_only=read_only, config=config)


@cache
def sql_text(relative_path: str) -> str:
    """The text of a SQL file under `assets/` (for example `marts/population_base.sql`)."""
    return (SQL_ROOT / relative_path).read_text(encoding="utf-8")


def used_params(statement: duckdb.Statement | str, params: dict[str, Any]) -> dict[str, Any]:
    """The named parameters ($name) one statement uses (DuckDB rejects unused ones); missing ones raise."""
    if isinstance(statement, str):
        (statement,) = duckdb.extract_statements(statement)
    missing = statement.named_parameters - params.keys()
    if missing:
        raise KeyError(f"SQL parameter(s) not provided: {sorted(missing)}")
    return {k: params[k] for k in statement.named_parameters}


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether `schema.table` is a table of the connection's current database."""
    row = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = $schema and table_name = $table",
        {"schema": schema, "table": table},
    ).fetchone()
    return bool(row and row[0])


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> None:
    """Run every statement of a SQL script, binding to each only the named parameters it uses."""
    for statement in duckdb.extract_statements(sql):
        con.execute(statement, used_params(statement, params or {}))


def run_sql_file(
    con: duckdb.DuckDBPyConnection, relative_path: str, params: dict[str, Any] | None = None
) -> None:
    """Run every statement of a SQL file under `assets/` with named parameters."""
    run_sql(con, sql_text(relative_path), params)


def install_sql_macros(con: duckdb.DuckDBPyConnection) -> None:
    """CREATE OR REPLACE the pb_* macros of assets/macros/*.sql (text, IDs, values); idempotent."""
    for path in sorted(MACRO_DIR.glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))
