"""Parameters of the population layer and the SQL it generates from the registry."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import duckdb
import yaml

from pipelines.feeds import PROJECT_ROOT, Feed, Registry, registry
from pipelines.lib.duck import install_sql_macros
from pipelines.lib.ingest.schema import ensure_ops_schema
from pipelines.lib.retention import events_kept_from
from pipelines.lib.sql_models import SqlModel, run_model
from pipelines.settings import Settings

RULE_PATH = PROJECT_ROOT / "assets" / "actual_population.yml"
FLAG_RULES_PATH = PROJECT_ROOT / "assets" / "flag_rules.yml"


class NoDeliveriesError(RuntimeError):
    """Nothing has been loaded yet, so there is no reference date to build the population for."""


@cache
def actual_population_rule() -> dict[str, Any]:
    """The configured actual-population rule (assets/actual_population.yml)."""
    return yaml.safe_load(RULE_PATH.read_text(encoding="utf-8"))


def sync_feed_table(con: duckdb.DuckDBPyConnection, reg: Registry | None = None) -> None:
    """`ref.feeds`: one row per registry feed (kind, cadence, owner), for SQL that needs them."""
    reg = reg or registry()
    con.execute("create schema if not exists ref")
    con.execute(
        "create or replace table ref.feeds (feed varchar primary key, kind varchar, trust integer, "
        "cadence_days integer,"
        " grace_days integer, department_zh varchar, department_en varchar, title_zh varchar, title_en varchar)"
    )
    con.executemany(
        "insert into ref.feeds values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                f.name,
                f.kind,
                f.trust,
                f.cadence_days,
                f.grace_days,
                f.department_zh,
                f.department_en,
                f.title_zh,
                f.title_en,
            )
            for f in reg.feeds.values()
        ],
    )


def resolve_reference_date(con: duckdb.DuckDBPyConnection, settings: Settings) -> dt.date:
    """POPBASE_REFERENCE_DATE, or else the latest date of a loaded delivery."""
    if settings.reference_date is not None:
        return settings.reference_date
    row = con.execute("select max(delivery_date) from ops.deliveries where status = 'loaded'").fetchone()
    if row is None or row[0] is None:
        raise NoDeliveriesError(
            f"no delivery has been loaded from {settings.landing_dir}: check POPBASE_LANDING_DIR and that "
            "each delivery folder has its _MANIFEST.json"
        )
    return row[0]


def model_parameters(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, Any]:
    """Named parameters every SQL model may use ($reference_date, the actual-population rule, …)."""
    for schema in ("intermediate", "marts"):
        con.execute(f"create schema if not exists {schema}")
    ensure_ops_schema(con)  # a working file from older code gains the ledger's newer columns before a model reads them
    install_sql_macros(con)  # the models use the ID macros (pb_id_check_char_n) whether or not staging ran here
    sync_feed_table(con)
    sync_person_roles(con)
    rule = actual_population_rule()
    reference_date = resolve_reference_date(con, settings)
    params: dict[str, Any] = {
        "reference_date": reference_date,
        "as_of_date": settings.as_of_date,  # what the late list judges against
        "window_months": int(rule["window_months"]),
        "hukou_requires_activity": bool(rule["hukou_requires_activity"]),
        "hukou_exempt_under_age": int(rule["hukou_exempt_under_age"]),
        "hukou_exempt_from_age": int(rule["hukou_exempt_from_age"]),
    }
    params["events_kept_from"] = (
        events_kept_from(
            con,
            keep_months=settings.keep_event_months,
            reference_date=reference_date,
            window_months=params["window_months"],
        )
        if settings.keep_event_months
        else None
    )
    params.update({f"sign_{name}": bool(on) for name, on in rule["signs"].items()})
    params.update(yaml.safe_load(FLAG_RULES_PATH.read_text(encoding="utf-8")))
    return params


def sync_person_roles(con: duckdb.DuckDBPyConnection, reg: Registry | None = None) -> None:
    """`ref.person_roles`: one row per (feed, role) of the registry's `persons`, with the implied sex."""
    reg = reg or registry()
    con.execute(
        "create or replace table ref.person_roles (feed varchar, role integer, id_column varchar, "
        "sex_expected varchar, primary key (feed, role))"
    )
    con.executemany(
        "insert into ref.person_roles values (?, ?, ?, ?)",
        [(f.name, i, r.id, r.sex_expected) for f in reg.feeds.values() for i, r in enumerate(f.persons)],
    )


def _mention_select(feed: Feed, role_index: int) -> str:
    """One feed role's mentions; feed and column names are registry identifiers (validated snake_case)."""
    role = feed.persons[role_index]

    def typed(column: str | None, sql_type: str) -> str:
        return f's."{column}"::{sql_type}' if column else f"null::{sql_type}"

    return "\n".join(
        [
            f"select '{feed.name}' as feed, {role_index} as role, s.delivery_id, s.delivery_date,",
            f'  s.source_file, s.source_row, s."{role.id}" as citizen_id,',
            f"  {typed(role.name, 'varchar')} as name, {typed(role.sex, 'varchar')} as sex,",
            f"  {typed(role.birth_date, 'date')} as birth_date, {typed(role.activity_date, 'date')} as activity_date",
            f'from staging."stg_{feed.name}" s',
            "join intermediate.int_deliveries_in_force d on d.delivery_id = s.delivery_id",
            f'where s."{role.id}" is not null',
        ]
    )


def person_mentions_sql(reg: Registry | None = None) -> str:
    """SQL of the view `intermediate.int_person_mentions`: one row per person mentioned by a row in force.

    Generated from every feed's `persons` roles in the registry. A view, not a table: at 10M persons (64M
    mentions) computing it takes 2.4 s and writing it took 20 s, while its two readers, `population_base` and
    `person_flags`, take about as long reading it through the view (53.5 + 16.2 s) as from a table (53.0 + 14.9 s).
    """
    reg = reg or registry()
    selects = [_mention_select(f, i) for f in reg.feeds.values() for i in range(len(f.persons))]
    return "create or replace view intermediate.int_person_mentions as\n" + "\nunion all\n".join(selects) + ";"


def person_mentions_model(reg: Registry | None = None) -> SqlModel:
    """The generated model `intermediate.int_person_mentions`."""
    return SqlModel(
        schema="intermediate",
        table="int_person_mentions",
        sql=person_mentions_sql(reg),
        source="pipelines.lib.population.person_mentions_sql (from the registry's `persons`)",
        grain="one row per person mentioned by a row in force (a marriage row mentions two)",
        depends=(("intermediate", "int_deliveries_in_force"), ("staging", "*")),
        notes="What each feed reports about a person (name, sex, birth date, activity date), for survivorship "
        "and the consistency flags.",
        materialized="view",
    )


def ordered_models() -> list[SqlModel]:
    """Every population-layer model in dependency order (what Dagster runs, for scripts and tests)."""
    from graphlib import TopologicalSorter

    from pipelines.lib.sql_models import discover_models

    models = {(m.schema, m.table): m for m in [person_mentions_model(), *discover_models()]}
    graph = {key: {d for d in m.depends if d in models} for key, m in models.items()}
    return [models[key] for key in TopologicalSorter(graph).static_order()]


def build_population(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, Any]:
    """Run every population-layer model once on `con`; returns the parameters used."""
    params = model_parameters(con, settings)
    for model in ordered_models():
        run_model(con, model, params)
    return params
