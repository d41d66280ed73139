"""Raw and staging assets for every feed of the registry: one factory, no per-department code."""

import dagster as dg

from pipelines.defs.automation import raw_freshness_policy
from pipelines.defs.resources import PopbaseSettings, WorkDuckDB
from pipelines.feeds import Feed, registry
from pipelines.lib import ingest, staging

DUCKDB_POOL = "popbase_duckdb"
FILE_RETRY = dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL)


def _owner(feed: Feed) -> str:
    return f"team:{feed.owner}"


def raw_asset(feed: Feed) -> dg.AssetsDefinition:
    """`raw/<feed>`: every new complete delivery of the feed loaded as delivered, all text."""

    @dg.asset(
        key=["raw", feed.name],
        group_name="raw",
        kinds={"duckdb"},
        owners=[_owner(feed)],
        pool=DUCKDB_POOL,
        retry_policy=FILE_RETRY,
        freshness_policy=raw_freshness_policy(feed),
        description=(
            f"{feed.title_zh} ({feed.title_en}) from {feed.department_zh} / {feed.department_en}, as delivered. "
            f"Grain: one row per well-formed delivered data row of every loaded {feed.kind} delivery; "
            f"format {feed.format}, encoding {feed.encoding}. A delivery with byte-identical files to a loaded "
            "one (a snapshot re-sent unchanged) is verified, then copied from it instead of parsed."
        ),
        metadata={"feed": feed.name, "kind": feed.kind, "format": feed.format},
    )
    def _raw(context: dg.AssetExecutionContext, duckdb: WorkDuckDB, popbase: PopbaseSettings) -> dg.MaterializeResult:
        settings = popbase.settings()
        if not settings.landing_dir.is_dir():
            raise dg.Failure(f"the landing directory {settings.landing_dir} does not exist (POPBASE_LANDING_DIR)")
        with duckdb.connect() as con:
            ingest.ensure_ops_schema(con)
            outcomes = ingest.ingest_feed(con, feed, settings.landing_dir, progress=context.log.info)
            total = con.execute(f'select count(*) from raw."{feed.name}"').fetchone()[0]
        rejected = [o for o in outcomes if o.status == "rejected"]
        for o in rejected:
            context.log.warning(f"{feed.name} delivery {o.delivery_date} rejected: {o.message}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": total,
                "deliveries_loaded": sum(o.status in ("loaded", "replaced") for o in outcomes),
                "deliveries_rejected": len(rejected),
                "deliveries_unchanged": sum(o.status == "unchanged" for o in outcomes),
                "deliveries_copied": sum(o.reused_from is not None for o in outcomes),
                "rows_received": sum(o.rows_received for o in outcomes),
                "rows_malformed": sum(o.rows_malformed for o in outcomes),
                "rejections": dg.MetadataValue.md(
                    "\n".join(f"- {o.delivery_date}: {o.message}" for o in rejected) or "none"
                ),
            }
        )

    return _raw


def staging_asset(feed: Feed) -> dg.AssetsDefinition:
    """`staging/stg_<feed>`: standardised, validated rows; everything else quarantined with a reason."""

    @dg.asset(
        key=["staging", f"stg_{feed.name}"],
        deps=[dg.AssetKey(["raw", feed.name])],
        group_name="staging",
        kinds={"duckdb"},
        owners=[_owner(feed)],
        pool=DUCKDB_POOL,
        description=(
            f"{feed.title_zh} ({feed.title_en}), standardised: IDs normalised and validated, dates, amounts "
            f"and codes typed, natural key ({', '.join(feed.natural_key)}) unique per delivery. "
            "Grain: one row per accepted delivered row of every loaded delivery."
        ),
        metadata={"feed": feed.name, "natural_key": ", ".join(feed.natural_key)},
    )
    def _staging(
        context: dg.AssetExecutionContext, duckdb: WorkDuckDB, popbase: PopbaseSettings
    ) -> dg.MaterializeResult:
        settings = popbase.settings()
        with duckdb.connect() as con:
            staging.install_macros(con)
            outcomes = staging.stage_feed(con, feed, reference_date=settings.as_of_date)
            total = con.execute(f'select count(*) from staging."stg_{feed.name}"').fetchone()[0]
        by_reason: dict[str, int] = {}
        for o in outcomes:
            for reason, n in o.quarantined_by_reason.items():
                by_reason[reason] = by_reason.get(reason, 0) + n
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": total,
                "deliveries_staged": len(outcomes),
                "deliveries_copied": sum(o.copied_from is not None for o in outcomes),
                "rows_loaded": sum(o.rows_loaded for o in outcomes),
                "rows_duplicate": sum(o.rows_duplicate for o in outcomes),
                "rows_quarantined": sum(o.rows_quarantined for o in outcomes),
                "quarantined_by_reason": dg.MetadataValue.json(by_reason),
            }
        )

    return _staging


@dg.definitions
def defs() -> dg.Definitions:
    feeds = registry().feeds.values()
    return dg.Definitions(assets=[build(f) for f in feeds for build in (raw_asset, staging_asset)])
