"""Writing one file's rows: Arrow batches into raw.<feed>, malformed rows into ops.quarantine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from pipelines.feeds import Feed
from pipelines.lib.ingest.schema import loading_quarantine_table, quote, raw_table

BATCH_VIEW = "_popbase_raw_batch"
QUARANTINE_VIEW = "_popbase_quarantine"
QUARANTINE_FLUSH = 50_000
# DuckDB scans a registered Arrow table one record batch per thread, and each INSERT has a fixed cost: rows
# go in as few large inserts of a few large batches. Readers yield small batches (pyarrow's CSV reader one per
# 4 MB block), which made raw/tax at 10M persons insert at half speed (11.7M rows: 40-46 s, now 26-30 s).
RAW_FLUSH_ROWS = 1_000_000
RAW_BATCH_ROWS = 250_000


def raw_insert_sql(feed: Feed) -> str:
    """INSERT of a registered Arrow batch (`source_row` + canonical columns) into raw.<feed>."""
    cols = ", ".join(quote(c) for c in feed.column_names)
    return (f"INSERT INTO {raw_table(feed)} (delivery_id, source_file, source_row, {cols}) "
            f"SELECT $delivery_id, $source_file, source_row, {cols} FROM {BATCH_VIEW}")


def quarantine_insert_sql(feed: Feed) -> str:
    """INSERT of one file's ROW_MALFORMED rows (registered Arrow batch) into the loading quarantine table."""
    return (f"INSERT INTO {loading_quarantine_table(feed)} (delivery_id, feed, delivery_date, source_file, "
            "source_row, reason_code, column_name, offending_value, detail, raw_record) "
            "SELECT $delivery_id, $feed, $delivery_date, $source_file, source_row, 'ROW_MALFORMED', NULL, NULL, "
            f"detail, json_object('line', line) FROM {QUARANTINE_VIEW}")


@dataclass
class FileSink:
    """Writes one file's rows to raw.<feed> and its malformed rows to the loading quarantine table; counts them."""

    con: duckdb.DuckDBPyConnection
    feed: Feed
    delivery_id: str
    delivery_date: dt.date
    source_file: str
    rows_loaded: int = 0
    rows_malformed: int = 0
    _rows: list[int] = field(default_factory=list)
    _details: list[str] = field(default_factory=list)
    _lines: list[str] = field(default_factory=list)
    _pending: list[pa.Table] = field(default_factory=list)
    _pending_rows: int = 0

    def write_batch(self, batch: pa.Table | pa.RecordBatch) -> None:
        """Queue rows with a `source_row` column and every canonical column (as strings) for raw."""
        if batch.num_rows == 0:
            return
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self.rows_loaded += table.num_rows
        if self._pending_rows >= RAW_FLUSH_ROWS:
            self._flush_raw()

    def _flush_raw(self) -> None:
        if not self._pending:
            return
        whole = pa.concat_tables(self._pending, promote_options="permissive").combine_chunks()
        table = pa.Table.from_batches(whole.to_batches(max_chunksize=RAW_BATCH_ROWS))
        self._pending, self._pending_rows = [], 0
        self.con.register(BATCH_VIEW, table)
        try:
            self.con.execute(raw_insert_sql(self.feed),
                             {"delivery_id": self.delivery_id, "source_file": self.source_file})
        finally:
            self.con.unregister(BATCH_VIEW)

    def malformed(self, source_row: int, detail: str, line: str) -> None:
        """Queue one ROW_MALFORMED row (the raw line text goes only to raw_record)."""
        self._rows.append(source_row)
        self._details.append(detail)
        self._lines.append(line)
        self.rows_malformed += 1
        if len(self._rows) >= QUARANTINE_FLUSH:
            self.flush()

    def flush(self) -> None:
        """Write everything queued: raw rows and quarantine rows."""
        self._flush_raw()
        if not self._rows:
            return
        table = pa.table({"source_row": pa.array(self._rows, pa.int64()),
                          "detail": pa.array(self._details, pa.string()),
                          "line": pa.array(self._lines, pa.string())})
        self.con.register(QUARANTINE_VIEW, table)
        try:
            self.con.execute(quarantine_insert_sql(self.feed), {
                "delivery_id": self.delivery_id, "feed": self.feed.name,
                "delivery_date": self.delivery_date, "source_file": self.source_file,
            })
        finally:
            self.con.unregister(QUARANTINE_VIEW)
        self._rows, self._details, self._lines = [], [], []
