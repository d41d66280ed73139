"""Snapshot retention: the working file keeps the raw and staged rows of the newest snapshots only.

Every snapshot feed re-delivers its whole state each month, so without retention the working file grows by
a month of snapshots every month (at 10M persons about 3.5 GB). A snapshot older than the newest `keep`
loaded ones (on or before the reference date) is never in force again; what it said about who lived where
is kept in `marts.population_history`, its quarantined rows in `ops.quarantine` and its ledger row in
`ops.deliveries` (with `pruned_at`). Its raw and staged rows are deleted; DuckDB reuses the freed blocks,
so the file stops growing. Event feeds are never pruned: their deliveries stay in force.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from pipelines.feeds import Registry, registry
from pipelines.lib.duck import sql_text, table_exists
from pipelines.lib.ingest.schema import raw_table
from pipelines.lib.staging_sql import staging_table


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
    con.execute("begin transaction")
    try:
        for name, ids in sorted(by_feed.items()):
            feed = reg.feeds[name]
            pruned.raw_rows[name] = _delete_rows(con, raw_table(feed), ids)
            pruned.staged_rows[name] = _delete_rows(con, staging_table(feed), ids)
            con.execute("update ops.deliveries set pruned_at = $now where delivery_id in (select unnest($ids))",
                        {"now": now, "ids": ids})
            pruned.deliveries[name] = ids
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("checkpoint")
    return pruned


def _delete_rows(con: duckdb.DuckDBPyConnection, table: str, delivery_ids: list[str]) -> int:
    row = con.execute(
        f"delete from {table} where delivery_id in (select unnest($ids))", {"ids": delivery_ids}
    ).fetchone()
    return int(row[0]) if row else 0
