"""SQL models: one `.sql` file per table under `assets/<layer>/`, its header saying grain and inputs.

A model file starts with comment lines:

    -- grain: one row per person known to any feed
    -- depends: staging.stg_hukou, intermediate.int_deliveries_in_force
    -- materialized: view          (optional; the default is a table)
    -- any further comment lines: the business meaning

The table it builds is `<layer>.<file stem>`; `depends: staging.*` means every feed's staging table.
A model is a table unless it says `view`: a view for what is cheap to compute and costly to write, read by few
(its readers compute it again; views take no parameters). Running a model first drops an object of the same
name but the other kind, so a working file built before a model changed kind still runs.
Models whose SQL is generated from the registry are built in code with the same fields.
The Dagster factory turns each model into an asset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.duck import SQL_ROOT, run_sql
from pipelines.lib.quality.masking import mask_error

LAYERS = ("intermediate", "marts")
KINDS = {"table": "view", "view": "table"}  # a model's kind -> the kind it replaces


class ModelError(RuntimeError):
    """A model's SQL failed. The message names the table and the masked DuckDB error, never a row's value."""


@dataclass(frozen=True)
class SqlModel:
    """One SQL file that (re)builds one table."""

    schema: str
    table: str
    sql: str
    source: str
    grain: str
    depends: tuple[tuple[str, str], ...]
    notes: str
    materialized: str = "table"

    @property
    def description(self) -> str:
        kind = " A view, computed by each reader." if self.materialized == "view" else ""
        return f"Grain: {self.grain}.{kind}" + (f"\n\n{self.notes}" if self.notes else "")


def parse_model(path: Path) -> SqlModel:
    """Read a model's header; a file without `-- grain:` is an error naming the file."""
    grain, depends, notes, materialized = None, [], [], "table"
    sql = path.read_text(encoding="utf-8")
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        text = line[2:].strip()
        if text.startswith("grain:"):
            grain = text.removeprefix("grain:").strip().rstrip(".")
        elif text.startswith("depends:"):
            for ref in text.removeprefix("depends:").split(","):
                schema, _, table = ref.strip().partition(".")
                if not table:
                    raise ValueError(f"{path}: dependency {ref.strip()!r} must be schema.table")
                depends.append((schema, table))
        elif text.startswith("materialized:"):
            materialized = text.removeprefix("materialized:").strip()
            if materialized not in KINDS:
                raise ValueError(f"{path}: `materialized:` must be one of {sorted(KINDS)}, not {materialized!r}")
        elif text:
            notes.append(text)
    if grain is None:
        raise ValueError(f"{path}: the header must state the table's grain as `-- grain: one row per …`")
    source = str(path.relative_to(SQL_ROOT)) if path.is_relative_to(SQL_ROOT) else str(path)
    return SqlModel(path.parent.name, path.stem, sql, source, grain, tuple(depends), " ".join(notes), materialized)


def discover_models(root: Path = SQL_ROOT) -> list[SqlModel]:
    """Every model of every layer, in a stable order."""
    return [parse_model(p) for layer in LAYERS for p in sorted((root / layer).glob("*.sql"))]


def run_model(con: duckdb.DuckDBPyConnection, model: SqlModel, params: dict[str, Any]) -> None:
    """Run one model's SQL with the run's parameters; a DuckDB error (it can quote an ID or a name) is
    raised again as a ModelError with its text masked and without the original chained."""
    try:
        _drop_other_kind(con, model)
        run_sql(con, model.sql, params)
    except duckdb.Error as exc:
        raise ModelError(f"{model.schema}.{model.table} failed: {mask_error(exc)}") from None


def _drop_other_kind(con: duckdb.DuckDBPyConnection, model: SqlModel) -> None:
    """Drop a view where the model builds a table, or a table where it builds a view (CREATE OR REPLACE
    refuses to change an object's kind)."""
    other = KINDS[model.materialized]
    catalog = ("duckdb_views() WHERE NOT internal AND view_name" if other == "view"
               else "duckdb_tables() WHERE table_name")
    row = con.execute(f"SELECT count(*) FROM {catalog} = $table AND schema_name = $schema",
                      {"table": model.table, "schema": model.schema}).fetchone()
    if row and row[0]:
        con.execute(f'DROP {other.upper()} "{model.schema}"."{model.table}"')
