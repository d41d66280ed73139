"""Standardisation (raw.<feed> -> staging.stg_<feed> + ops.quarantine), SQL generated from the registry.

    install_macros(con)              the pb_* macros (assets/macros/*.sql) and ref.* tables; idempotent
    stage_feed(con, feed, reference_date=…)   stages every loaded, not yet staged delivery of the feed

Each delivery is staged in one transaction: earlier staging output of the delivery is removed (ingestion's
ROW_MALFORMED quarantine rows are kept), the generated chain (pipelines/lib/staging_sql.py) runs once over
the delivery's raw rows into a temp table, staged and quarantined rows are inserted from it, and the
ledger gets its counts, the reference date and the code fingerprint. A re-delivery of data staged before
copies those rows instead (pipelines/lib/staging_copy.py). The accounting identity
rows_received = loaded + duplicate + quarantined is checked before commit.
Nothing here logs or raises with a citizen ID or a name.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date

import duckdb

from pipelines.feeds import Feed, registry
from pipelines.lib import staging_sql as gen
from pipelines.lib.duck import install_sql_macros, used_params
from pipelines.lib.ingest.reuse import code_fingerprint, count_rows
from pipelines.lib.quality.masking import mask_error
from pipelines.lib.reference import load_reference_tables
from pipelines.lib.staging_copy import CopySource, copy_source, copy_staged_rows

log = logging.getLogger(__name__)


class StagingError(RuntimeError):
    """Staging a delivery failed; the message names the delivery and the counts (never row contents)."""


@dataclass(frozen=True)
class StageOutcome:
    """What became of one delivery's rows."""

    delivery_id: str
    rows_received: int
    rows_loaded: int
    rows_duplicate: int
    rows_quarantined: int
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    copied_from: str | None = None  # the delivery with the same data whose staged rows were copied


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """CREATE OR REPLACE the pb_* macros and (re)load ref.regions and ref.code_lists; idempotent."""
    install_sql_macros(con)
    load_reference_tables(con, registry())


def _macros_installed(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'pb_detail'"
    ).fetchone()
    tables = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ref' AND table_name IN ('regions', 'code_lists')"
    ).fetchone()
    return bool(row and row[0]) and bool(tables and tables[0] == 2)


def ensure_staging_table(con: duckdb.DuckDBPyConnection, feed: Feed) -> None:
    """Create staging.stg_<feed> if missing; an existing table with other columns is an error."""
    con.execute(gen.create_staging_table_sql(feed))
    found = [
        r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'staging' AND table_name = $t "
            "ORDER BY column_index", {"t": f"stg_{feed.name}"},
        ).fetchall()
    ]
    expected = [n for n, _ in gen.staging_columns(feed)]
    if found != expected:
        raise StagingError(
            f"staging.stg_{feed.name} has columns {found}, the registry expects {expected}; "
            "drop the table (it is rebuilt from raw) or fix the registry"
        )


def _run(con: duckdb.DuckDBPyConnection, sql: str, values: dict[str, object]) -> None:
    started = time.perf_counter()
    con.execute(sql, used_params(sql, values))
    log.debug("%.2fs %s", time.perf_counter() - started, sql.split("\n", 1)[0][:80])


def _count(con: duckdb.DuckDBPyConnection, sql: str, values: dict[str, object]) -> int:
    row = con.execute(sql, used_params(sql, values)).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _stage_delivery(
    con: duckdb.DuckDBPyConnection, feed: Feed, delivery_id: str, delivery_date: date,
    rows_received: int, values: dict[str, object], source: CopySource | None,
) -> StageOutcome:
    started = time.perf_counter()
    values = {**values, "delivery_id": delivery_id, "delivery_date": delivery_date}
    table = gen.staging_table(feed)
    con.execute("BEGIN TRANSACTION")
    try:
        _run(con, f"DELETE FROM {table} WHERE delivery_id = $delivery_id", values)
        _run(con, "DELETE FROM ops.quarantine WHERE delivery_id = $delivery_id "
                  "AND reason_code IS DISTINCT FROM 'ROW_MALFORMED'", values)
        if source is not None:
            copy_staged_rows(con, feed, source, delivery_id, delivery_date, values["ref_date"])
            loaded = count_rows(con, table, delivery_id)
            duplicate = source.rows_duplicate
        else:
            _run(con, gen.work_table_sql(feed), values)
            _run(con, gen.key_check_sql(feed), values)
            _run(con, gen.insert_staging_sql(feed), values)
            _run(con, gen.insert_quarantine_sql(feed), values)
            loaded = _count(con, "SELECT count(*) FROM _stage_work WHERE _outcome IS NULL", values)
            duplicate = _count(con, "SELECT count(*) FROM _stage_work WHERE _outcome = 'DUPLICATE'", values)
        by_reason = dict(con.execute(
            "SELECT reason_code, count(*) FROM ops.quarantine WHERE delivery_id = $delivery_id "
            "GROUP BY reason_code ORDER BY reason_code", {"delivery_id": delivery_id},
        ).fetchall())
        quarantined = sum(by_reason.values())
        if rows_received != loaded + duplicate + quarantined:
            raise StagingError(
                f"delivery {delivery_id}: rows do not add up: received {rows_received} != loaded {loaded}"
                f" + duplicate {duplicate} + quarantined {quarantined}; nothing of it was staged"
            )
        con.execute(
            "UPDATE ops.deliveries SET rows_loaded = $loaded, rows_duplicate = $duplicate, "
            "rows_quarantined = $quarantined, staged_at = CAST(now() AS TIMESTAMP), staged_ref_date = $ref_date, "
            "code_fingerprint = $fingerprint WHERE delivery_id = $d",
            {"loaded": loaded, "duplicate": duplicate, "quarantined": quarantined, "d": delivery_id,
             "ref_date": values["ref_date"], "fingerprint": code_fingerprint(feed)},
        )
        con.execute("DROP TABLE IF EXISTS _stage_work")
        con.execute("COMMIT")
    except StagingError:
        con.execute("ROLLBACK")
        raise
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        raise StagingError(f"delivery {delivery_id}: staging failed, nothing of it was staged: "
                           f"{mask_error(exc)}") from None
    except BaseException:
        con.execute("ROLLBACK")
        raise
    outcome = StageOutcome(delivery_id, rows_received, loaded, duplicate, quarantined, by_reason,
                           time.perf_counter() - started, source.delivery_id if source else None)
    log.info("staged %s%s: received %d, loaded %d, duplicate %d, quarantined %d %s in %.1fs", delivery_id,
             f" (copied from {source.delivery_id})" if source else "", rows_received, loaded, duplicate,
             quarantined, by_reason, outcome.seconds)
    return outcome


def stage_feed(
    con: duckdb.DuckDBPyConnection, feed: Feed, *, reference_date: date | None = None
) -> list[StageOutcome]:
    """Stage every delivery of `feed` with status 'loaded' that is not staged yet (oldest first).

    `reference_date` bounds birth dates inside IDs (default: today).
    """
    if not _macros_installed(con):
        install_macros(con)
    ensure_staging_table(con, feed)
    con.execute("CREATE OR REPLACE TEMP TABLE _stage_cols "
                "(idx INTEGER, column_name VARCHAR, zh VARCHAR, en VARCHAR, col_type VARCHAR, list_name VARCHAR)")
    con.executemany("INSERT INTO _stage_cols VALUES (?, ?, ?, ?, ?, ?)", gen.column_rows(feed))
    ref_date = reference_date or date.today()
    values = {**gen.params(feed, registry().citizen_id_types), "ref_date": ref_date}
    pending = con.execute(
        "SELECT delivery_id, delivery_date, rows_received, reused_from IS NOT NULL FROM ops.deliveries "
        "WHERE feed = $feed AND status = 'loaded' AND staged_at IS NULL ORDER BY delivery_date, delivery_id",
        {"feed": feed.name},
    ).fetchall()
    return [_stage_delivery(con, feed, d, dd, int(n or 0), values,
                            copy_source(con, feed, d, ref_date) if reused else None)
            for d, dd, n, reused in pending]
