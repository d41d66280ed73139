"""Snapshot retention: the working file keeps the raw and staged rows of the newest snapshots only.

Every snapshot feed re-delivers its whole state each month, so without retention the working file grows by
a month of snapshots every month (at 10M persons about 3.5 GB). A snapshot older than the newest `keep`
loaded ones (on or before the reference date) is never in force again; what it said about who lived where
is kept in `marts.population_history`, its quarantined rows in `ops.quarantine` and its ledger row in
`ops.deliveries` (with `pruned_at`). Its raw and staged rows are deleted; DuckDB reuses the freed blocks,
so the file stops growing. Event deliveries stay in force; with POPBASE_KEEP_EVENT_MONTHS set, the events of
a feed that declares a `period_column` (tax) whose period is older than that many months leave the working
file (`prune_event_periods`), so it stops growing by a month of events every month too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb

from pipelines.feeds import Feed, Registry, registry
from pipelines.lib.duck import sql_text, table_exists
from pipelines.lib.ingest.schema import raw_table
from pipelines.lib.staging_sql import q, staging_table

PRUNED_EVENTS = "_popbase_pruned_events"


class RetentionError(RuntimeError):
    """Retention cannot run yet; the message says what is missing."""


@dataclass(frozen=True)
class Pruned:
    """What one retention pass deleted (no personal data): delivery ids and row counts per feed."""

    deliveries: dict[str, list[str]] = field(default_factory=dict)
    raw_rows: dict[str, int] = field(default_factory=dict)
    staged_rows: dict[str, int] = field(default_factory=dict)


def prune_snapshots(
    con: duckdb.DuckDBPyConnection, *, keep: int, reference_date: dt.date, reg: Registry | None = None
) -> Pruned:
    """Delete the raw and staged rows of the snapshot deliveries older than the newest `keep` per feed.

    One transaction: the rows go and the ledger says so together. A checkpoint afterwards makes the freed
    blocks reusable by the next run's inserts."""
    if keep < 1:
        raise ValueError("keep must be at least 1: the snapshot in force is always kept")
    reg = reg or registry()
    if not table_exists(con, "ops", "population_history_sources"):
        raise RetentionError("marts.population_history has not been built yet: run the marts before retention")
    rows = con.execute(
        sql_text("retention/snapshots_to_prune.sql"), {"keep": keep, "reference_date": reference_date}
    ).fetchall()
    by_feed: dict[str, list[str]] = {}
    for feed, delivery_id, _ in rows:
        by_feed.setdefault(feed, []).append(delivery_id)
    pruned = Pruned()
    if not by_feed:
        return pruned
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with _one_transaction_then_checkpoint(con):
        for name, ids in sorted(by_feed.items()):
            feed = reg.feeds[name]
            pruned.raw_rows[name] = _delete_rows(con, raw_table(feed), ids)
            pruned.staged_rows[name] = _delete_rows(con, staging_table(feed), ids)
            con.execute("update ops.deliveries set pruned_at = $now where delivery_id in (select unnest($ids))",
                        {"now": now, "ids": ids})
            pruned.deliveries[name] = ids
    return pruned


@contextlib.contextmanager
def _one_transaction_then_checkpoint(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The deletes inside commit together or not at all; a checkpoint afterwards makes the freed blocks
    reusable by the next run's inserts."""
    con.execute("begin transaction")
    try:
        yield
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("checkpoint")


def _delete_rows(con: duckdb.DuckDBPyConnection, table: str, delivery_ids: list[str]) -> int:
    row = con.execute(
        f"delete from {table} where delivery_id in (select unnest($ids))", {"ids": delivery_ids}
    ).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class PrunedEvents:
    """What one event retention pass deleted (no personal data): the first period kept and rows per feed."""

    kept_from: dt.date
    raw_rows: dict[str, int] = field(default_factory=dict)
    staged_rows: dict[str, int] = field(default_factory=dict)


def events_kept_from(
    con: duckdb.DuckDBPyConnection, *, keep_months: int, reference_date: dt.date, window_months: int
) -> dt.date:
    """The first event period the working file keeps for `keep_months` (never one the base still reads)."""
    params = {"keep_months": keep_months, "reference_date": reference_date, "window_months": window_months}
    row = con.execute(sql_text("retention/event_cutoff.sql"), params).fetchone()
    if row is None:
        raise RetentionError("the event cutoff query returned no row")
    return row[0]


def prune_event_periods(
    con: duckdb.DuckDBPyConnection,
    *,
    keep_months: int,
    reference_date: dt.date,
    window_months: int,
    reg: Registry | None = None,
) -> PrunedEvents:
    """Delete the staged rows of events whose period is before `events_kept_from`, and the raw rows they were
    staged from, per feed with a `period_column`. Raw rows that never reached staging (quarantined, exact
    duplicates) stay with their quarantine records: they are what the department was told. One transaction;
    then a checkpoint."""
    reg = reg or registry()
    kept_from = events_kept_from(
        con, keep_months=keep_months, reference_date=reference_date, window_months=window_months
    )
    pruned = PrunedEvents(kept_from=kept_from)
    feeds = [f for f in reg.feeds.values() if f.period_column is not None]
    if not feeds:
        return pruned
    with _one_transaction_then_checkpoint(con):
        for feed in feeds:
            raw_rows, staged_rows = _delete_events_before(con, feed, kept_from)
            pruned.raw_rows[feed.name] = raw_rows
            pruned.staged_rows[feed.name] = staged_rows
    return pruned


def _delete_events_before(con: duckdb.DuckDBPyConnection, feed: Feed, kept_from: dt.date) -> tuple[int, int]:
    """(raw rows, staged rows) deleted for one feed; identifiers come from the registry."""
    staged, period = staging_table(feed), q(str(feed.period_column))
    con.execute(
        f"create or replace temp table {PRUNED_EVENTS} as select delivery_id, source_file, source_row "
        f"from {staged} where {period} < $kept_from",
        {"kept_from": kept_from},
    )
    raw = con.execute(
        f"delete from {raw_table(feed)} as r using {PRUNED_EVENTS} as p where r.delivery_id = p.delivery_id "
        "and r.source_file = p.source_file and r.source_row = p.source_row"
    ).fetchall()
    staged_rows = con.execute(f"delete from {staged} where {period} < $kept_from", {"kept_from": kept_from}).fetchall()
    con.execute(f"drop table {PRUNED_EVENTS}")
    return int(raw[0][0]), int(staged_rows[0][0])
