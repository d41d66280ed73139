"""DDL of the tables ingestion writes: ops.deliveries, ops.quarantine and raw.<feed>."""

from __future__ import annotations

import duckdb

from pipelines.feeds import Feed, registry
from pipelines.lib.duck import sql_text


def quote(identifier: str) -> str:
    """A double-quoted SQL identifier (registry names only)."""
    return '"' + identifier.replace('"', '""') + '"'


def raw_table(feed: Feed) -> str:
    """Qualified name of the feed's raw table.

    A delivery's rows are written here chunk by chunk while it loads, each chunk committed, so memory
    stays bounded. They count only once the ledger says the delivery is 'loaded': every reader picks
    deliveries from the ledger, and rows of any other delivery (a load that failed or was killed) are
    deleted before the next load and after a failed one."""
    return f"raw.{quote(feed.name)}"


def loading_quarantine_table(feed: Feed) -> str:
    """Where a loading delivery's ROW_MALFORMED rows collect until they move into ops.quarantine."""
    return f"ops.{quote('_loading_quarantine_' + feed.name)}"


def raw_columns(feed: Feed) -> list[str]:
    """Columns of raw.<feed> in order: bookkeeping first, then the registry's canonical names."""
    return ["delivery_id", "source_file", "source_row", *feed.column_names]


def raw_table_ddl(feed: Feed) -> str:
    """CREATE TABLE IF NOT EXISTS for raw.<feed>: every delivered field as VARCHAR."""
    cols = ",\n    ".join(f"{quote(c)} VARCHAR" for c in feed.column_names)
    return (
        f"CREATE TABLE IF NOT EXISTS {raw_table(feed)} (\n    delivery_id VARCHAR NOT NULL,\n"
        f"    source_file VARCHAR NOT NULL,\n    source_row BIGINT NOT NULL,\n    {cols}\n);\n"
        f"COMMENT ON TABLE {raw_table(feed)} IS "
        f"'{feed.title_en}: one row per well-formed delivered data row, every field as delivered (text)';"
    )


def ensure_ops_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create ops.deliveries, ops.quarantine and raw.<feed> for every registry feed if missing."""
    con.execute(sql_text("ingest/ops_schema.sql"))
    for feed in registry().feeds.values():
        con.execute(raw_table_ddl(feed))
