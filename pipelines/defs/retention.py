"""Housekeeping after publishing: superseded snapshots and old events leave the working file (lib.retention)."""

import dagster as dg

from pipelines.defs.feed_assets import DUCKDB_POOL
from pipelines.defs.publish import OFFICE, warehouse_files
from pipelines.defs.resources import PopbaseSettings, WorkDuckDB
from pipelines.lib.population import actual_population_rule, resolve_reference_date
from pipelines.lib.retention import prune_event_periods, prune_snapshots


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


@dg.asset(
    key=["published", "event_retention"],
    deps=[warehouse_files],
    group_name="published",
    kinds={"duckdb"},
    owners=[OFFICE],
    pool=DUCKDB_POOL,
)
def event_retention(
    context: dg.AssetExecutionContext, duckdb: WorkDuckDB, popbase: PopbaseSettings
) -> dg.MaterializeResult:
    """Raw and staged rows of events older than POPBASE_KEEP_EVENT_MONTHS deleted, once a run has published.

    Grain: one deleted row per event of a feed with a `period_column` (tax) whose period is before the first
    one kept: that many months before the reference date's month, and never one the base still reads (the
    12 income periods and the actual-population window). Unset (the default), every event is kept and this
    step does nothing. Their quarantine records and ledger rows stay.
    """
    settings = popbase.settings()
    if settings.keep_event_months is None:
        context.log.info("POPBASE_KEEP_EVENT_MONTHS is not set: every event is kept")
        return dg.MaterializeResult(metadata={"keep_event_months": "every event"})
    with duckdb.connect() as con:
        pruned = prune_event_periods(
            con,
            keep_months=settings.keep_event_months,
            reference_date=resolve_reference_date(con, settings),
            window_months=int(actual_population_rule()["window_months"]),
        )
    context.log.info(
        f"pruned {sum(pruned.staged_rows.values())} staged events with a period before {pruned.kept_from}"
    )
    return dg.MaterializeResult(
        metadata={
            "keep_event_months": settings.keep_event_months,
            "events_kept_from": pruned.kept_from.isoformat(),
            "raw_rows_deleted": dg.MetadataValue.json(pruned.raw_rows),
            "staged_rows_deleted": dg.MetadataValue.json(pruned.staged_rows),
        }
    )
