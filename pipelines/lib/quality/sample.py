"""A small clean warehouse built in SQL (assets/quality/sample_warehouse.sql): test fixture and benchmark."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.lib.duck import run_sql, run_sql_file, sql_text
from pipelines.lib.population import sync_feed_table

SAMPLE_REFERENCE_DATE = dt.date(2026, 4, 15)


def build_sample_warehouse(con: duckdb.DuckDBPyConnection, persons: int,
                           reference_date: dt.date = SAMPLE_REFERENCE_DATE) -> None:
    """Create staging, marts and ops tables for `persons` people, every rule of the suites satisfied."""
    run_sql(con, sql_text("quality/sample_warehouse.sql"), {"n": persons, "ref": reference_date})
    # by the pipeline's own models: the deliveries in force, which the population_base rules compare the base
    # with, and the history of the registers, where the feedback packets look for suggested corrections
    sync_feed_table(con)
    run_sql_file(con, "intermediate/int_deliveries_in_force.sql", {"reference_date": reference_date})
    run_sql_file(con, "marts/population_history.sql", {"reference_date": reference_date})
