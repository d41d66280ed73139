"""Publishing: both warehouse files built aside and renamed into place, then the population report."""

from dataclasses import asdict

import dagster as dg

from pipelines.defs.feed_assets import DUCKDB_POOL, FILE_RETRY
from pipelines.defs.resources import PopbaseSettings, WorkDuckDB
from pipelines.lib.population import resolve_reference_date
from pipelines.lib.publish import key_change_message, publish
from pipelines.lib.report import render_report
from pipelines.lib.sql_models import discover_models

OFFICE = "team:population_office"
MART_KEYS = [dg.AssetKey([m.schema, m.table]) for m in discover_models() if m.schema == "marts"]


@dg.asset(
    key=["published", "warehouse_files"],
    deps=MART_KEYS,
    group_name="published",
    kinds={"duckdb"},
    owners=[OFFICE],
    pool=DUCKDB_POOL,
    retry_policy=FILE_RETRY,
)
def warehouse_files(
    context: dg.AssetExecutionContext, duckdb: WorkDuckDB, popbase: PopbaseSettings
) -> dg.MaterializeResult:
    """The two published files: the full base (population.duckdb) and the analyst snapshot (analyst.duckdb).

    Grain: one file pair per run; inside, the marts tables of the warehouse contract. Both are built aside
    and renamed into place together, so readers see the old or the new version, never half a run.
    """
    settings = popbase.settings()
    with duckdb.connect() as con:
        reference_date = resolve_reference_date(con, settings)
    key = settings.pseudonym_key
    if not key:
        raise dg.Failure("POPBASE_PSEUDONYM_KEY is not set; the analyst snapshot cannot be pseudonymised")
    result = publish(
        settings.work_db,
        settings.warehouse_dir,
        pseudonym_key=key,
        reference_date=reference_date,
        memory_limit=settings.memory_limit,
        temp_directory=settings.temp_dir,
    )
    context.log.info(f"published {settings.population_file} and {settings.analyst_file}")
    if result.key_changed:
        context.log.warning(key_change_message(result))
    return dg.MaterializeResult(
        metadata={
            "population_file": dg.MetadataValue.path(str(settings.population_file)),
            "analyst_file": dg.MetadataValue.path(str(settings.analyst_file)),
            "reference_date": str(reference_date),
            "seconds": round(result.seconds, 2),
            "tables": dg.MetadataValue.json(result.row_counts),
            "pseudonym_key_id": result.pseudonym_key_id,
            "pseudonym_key_changed": result.key_changed,
            # counts only: per store table, pseudonyms taken from earlier publishes, computed, removed
            "pseudonyms": dg.MetadataValue.json({t: asdict(c) for t, c in result.pseudonyms.items()}),
        }
    )


@dg.asset(
    key=["published", "population_report"],
    deps=[warehouse_files],
    group_name="published",
    kinds={"html"},
    owners=[OFFICE],
    retry_policy=FILE_RETRY,
)
def population_report(context: dg.AssetExecutionContext, popbase: PopbaseSettings) -> dg.MaterializeResult:
    """The offline HTML population report rendered from the analyst snapshot. Grain: one report per run."""
    settings = popbase.settings()
    path = render_report(settings.analyst_file, settings.warehouse_dir / "report" / "population_report.html")
    return dg.MaterializeResult(metadata={"report": dg.MetadataValue.path(str(path))})
