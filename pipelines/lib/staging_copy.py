"""Staging a re-delivery by copying the staged and quarantined rows of the delivery it repeats.

When ingestion copied a delivery's raw rows from an earlier delivery with the same data
(pipelines/lib/ingest/reuse.py), staging it would give that delivery's rows again: staging is a function
of the delivery's rows, the code and rules (`code_fingerprint`) and the reference date. The reference date
moves only one check, a birth date after it (ID_BIRTH_DATE); assets/staging/copy_source.sql allows the copy
only when the earlier delivery was staged against a date no later than this run's and none of its rows was
quarantined for a birth date this run's date has reached. The copied ID_BIRTH_DATE messages then name this
run's reference date (pb_detail_for_ref_date). Otherwise the delivery is staged from its raw rows as any other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from pipelines.feeds import Feed
from pipelines.lib.duck import sql_text, used_params
from pipelines.lib.ingest.reuse import code_fingerprint, copy_rows_sql, count_rows
from pipelines.lib.staging_sql import staging_table


@dataclass(frozen=True)
class CopySource:
    """The staged delivery a re-delivery copies, with both deliveries' file names in manifest order."""

    delivery_id: str
    source_files: tuple[str, ...]
    files: tuple[str, ...]
    rows_duplicate: int
    ref_date: dt.date


def copy_source(con: duckdb.DuckDBPyConnection, feed: Feed, delivery_id: str,
                ref_date: dt.date) -> CopySource | None:
    """The delivery whose staged rows `delivery_id` can copy, or None when it must be staged."""
    rows = con.execute(sql_text("staging/copy_source.sql"), {
        "delivery_id": delivery_id, "code_fingerprint": code_fingerprint(feed), "ref_date": ref_date,
    }).fetchall()
    if not rows or count_rows(con, staging_table(feed), rows[0][0]) != rows[0][5]:
        return None  # not allowed, or some staged rows are gone (event retention deletes old periods)
    source, source_files, files, duplicate, source_ref_date, _ = rows[0]
    return CopySource(source, tuple(source_files), tuple(files), int(duplicate or 0), source_ref_date)


def copy_staged_rows(con: duckdb.DuckDBPyConnection, feed: Feed, source: CopySource, delivery_id: str,
                     delivery_date: dt.date, ref_date: dt.date) -> None:
    """Insert the source's staged rows and its quarantine rows from staging under the new delivery."""
    values = {"source_id": source.delivery_id, "delivery_id": delivery_id, "delivery_date": delivery_date,
              "source_files": list(source.source_files), "files": list(source.files),
              "source_ref_date": source.ref_date, "ref_date": ref_date}
    dated = {"delivery_date": "$delivery_date"}
    detail = "pb_detail_for_ref_date(detail, reason_code, $source_ref_date, $ref_date)"
    for sql in (copy_rows_sql(staging_table(feed), replace=dated),
                copy_rows_sql("ops.quarantine", replace={**dated, "detail": detail},
                              where=" AND reason_code IS DISTINCT FROM 'ROW_MALFORMED'")):
        con.execute(sql, used_params(sql, values))
