"""Parquet files into raw with DuckDB: every column cast to VARCHAR, the file row number kept."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.feeds import Feed
from pipelines.lib.ingest.headers import check_header
from pipelines.lib.ingest.schema import quote, raw_table
from pipelines.lib.ingest.sink import FileSink


def parquet_insert_sql(feed: Feed, delivered: list[str], names: list[str]) -> str:
    """INSERT … SELECT from read_parquet, delivered headers mapped to canonical names."""
    cols = ", ".join(quote(n) for n in names)
    values = ", ".join(f"CAST({quote(h)} AS VARCHAR)" for h in delivered)
    return (f"INSERT INTO {raw_table(feed)} (delivery_id, source_file, source_row, {cols}) "
            f"SELECT $delivery_id, $source_file, file_row_number + 1, {values} "
            f"FROM read_parquet($path, file_row_number = true)")


def read_parquet_file(con: duckdb.DuckDBPyConnection, sink: FileSink, feed: Feed, path: Path) -> int:
    """Load one Parquet file; returns its rows (Parquet has no malformed rows)."""
    delivered = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet($path)",
                                           {"path": str(path)}).fetchall()]
    names = check_header(feed, sink.source_file, delivered)
    inserted = con.execute(parquet_insert_sql(feed, delivered, names),
                           {"delivery_id": sink.delivery_id, "source_file": sink.source_file,
                            "path": str(path)}).fetchone()
    sink.rows_loaded += int(inserted[0]) if inserted else 0
    return sink.rows_loaded
