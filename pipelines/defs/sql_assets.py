"""Intermediate and mart assets, one per SQL model file under `assets/intermediate` and `assets/marts`."""

import dagster as dg

from pipelines.defs.feed_assets import DUCKDB_POOL
from pipelines.defs.resources import PopbaseSettings, WorkDuckDB
from pipelines.feeds import registry
from pipelines.lib.population import model_parameters, person_mentions_model
from pipelines.lib.sql_models import SqlModel, discover_models, run_model

OFFICE = "team:population_office"


def _dependency_keys(model: SqlModel) -> list[dg.AssetKey]:
    keys = []
    for schema, table in model.depends:
        if table == "*" and schema == "staging":
            keys += [dg.AssetKey(["staging", f"stg_{feed}"]) for feed in registry().feeds]
        else:
            keys.append(dg.AssetKey([schema, table]))
    return keys


def sql_model_asset(model: SqlModel) -> dg.AssetsDefinition:
    """An asset that rebuilds `<schema>.<table>` from its SQL file with the run's parameters."""

    @dg.asset(
        key=[model.schema, model.table],
        deps=_dependency_keys(model),
        group_name=model.schema,
        kinds={"duckdb"},
        owners=[OFFICE],
        pool=DUCKDB_POOL,
        description=model.description,
        metadata={"sql": model.source, "materialized": model.materialized},
    )
    def _model(context: dg.AssetExecutionContext, duckdb: WorkDuckDB, popbase: PopbaseSettings) -> dg.MaterializeResult:
        with duckdb.connect() as con:
            params = model_parameters(con, popbase.settings())
            run_model(con, model, params)
            table = f'"{model.schema}"."{model.table}"'
            rows = con.execute(f"select count(*) from {table}").fetchone()[0]
            columns = con.execute(
                "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ?",
                [model.schema, model.table],
            ).fetchall()
        context.log.info(f"{model.schema}.{model.table}: {rows} rows")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": dg.TableSchema(
                    columns=[dg.TableColumn(name, dtype) for name, dtype in columns]
                ),
                "reference_date": str(params["reference_date"]),
            }
        )

    return _model


@dg.definitions
def defs() -> dg.Definitions:
    models = [person_mentions_model(), *discover_models()]
    return dg.Definitions(assets=[sql_model_asset(m) for m in models])
