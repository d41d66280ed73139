"""Housekeeping after publishing: superseded snapshots leave the working file (pipelines.lib.retention)."""

import dagster as dg

from pipelines.defs.feed_assets import DUCKDB_POOL
from pipelines.defs.publish import OFFICE, warehouse_files
from pipelines.defs.resources import PopbaseSettings, WorkDuckDB
from pipelines.lib.population import resolve_reference_date
from pipelines.lib.retention import prune_snapshots


@dg.asset(
    key=["published", "snapshot_retention"],
    deps=[warehouse_files],
    group_name="published",
    kinds={"duckdb"},
    owners=[OFFICE],
    pool=DUCKDB_POOL,
)
def snapshot_retention(
    context: dg.AssetExecutionContext, duckdb: WorkDuckDB, popbase: PopbaseSettings
) -> dg.MaterializeResult:
    """Raw and staged rows of superseded snapshots deleted from the working file, once a run has published.

    Grain: one `ops.deliveries` row per pruned delivery (its `pruned_at` set): per snapshot feed, the loaded
    deliveries older than the newest POPBASE_KEEP_SNAPSHOTS (default 2) on or before the reference date.
    Their ledger rows, quarantined rows and what the population history took from them stay; the working
    file reuses the freed space, so it stops growing by a month of snapshots every month.
    """
    settings = popbase.settings()
    with duckdb.connect() as con:
        reference_date = resolve_reference_date(con, settings)
        pruned = prune_snapshots(con, keep=settings.keep_snapshots, reference_date=reference_date)
    count = sum(len(ids) for ids in pruned.deliveries.values())
    context.log.info(f"pruned {count} superseded snapshot deliveries (keeping {settings.keep_snapshots} per feed)")
    return dg.MaterializeResult(
        metadata={
            "keep_snapshots": settings.keep_snapshots,
            "deliveries_pruned": dg.MetadataValue.json(pruned.deliveries),
            "raw_rows_deleted": dg.MetadataValue.json(pruned.raw_rows),
            "staged_rows_deleted": dg.MetadataValue.json(pruned.staged_rows),
        }
    )
