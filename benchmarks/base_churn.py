"""How much of the published base a monthly run changes: the previous and the new `population_base`, column
by column (for the benchmark; reads the two published files, never the working file).

A monthly run whose deliveries change ~1 % of rows could only cost ~1 % if the published rows changed about as
little. These counts show how many do, and which columns make them change: the provenance columns name the
delivery a value came from (a new snapshot changes them for everyone), and some values move every month: age
with birthdays, insured months and the income of the last 12 months with the deliveries (paid months move, a
month of income arrives; in a month with nothing delivered that is new they stay).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

TABLE = "population_base"
KEY = "citizen_id"
NOT_COMPARED = (KEY, "reference_date")
PROVENANCE = ("name_source", "residence_source")
ROLLING = ("age", "insured_months", "income_last_12m")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _differs(columns: list[str]) -> str:
    """SQL: true when any of `columns` differs between the two rows (NULLs compare as values)."""
    return " or ".join(f"b.{_quote(c)} is distinct from a.{_quote(c)}" for c in columns) or "false"


def base_churn(
    before: Path, after: Path, *, memory_limit: str | None = None, temp_directory: Path | None = None
) -> dict:
    """Counts of persons kept, added and removed, and of kept persons whose row differs: in any column, without
    the provenance columns, without those and the rolling values, and per column (largest first). The memory limit
    defaults to the pipeline's (imported here: pipeline_bench imports this module before choosing which
    `pipelines` to load)."""
    from pipelines.lib.duck import DEFAULT_MEMORY_LIMIT

    memory_limit = memory_limit or DEFAULT_MEMORY_LIMIT
    config = {"memory_limit": memory_limit, "autoinstall_known_extensions": False}
    if temp_directory is not None:
        config["temp_directory"] = str(temp_directory)
    con = duckdb.connect(config=config)
    try:
        con.execute("attach $p as b (read_only)", {"p": str(before)})
        con.execute("attach $p as a (read_only)", {"p": str(after)})
        in_both = [r[0] for r in con.execute(
            "select column_name from duckdb_columns() where database_name = 'a' and table_name = $t "
            "and column_name in (select column_name from duckdb_columns() where database_name = 'b' "
            "and table_name = $t) order by column_index", {"t": TABLE}).fetchall()]
        compared = [c for c in in_both if c not in NOT_COMPARED]
        without_provenance = [c for c in compared if c not in PROVENANCE]
        stable = [c for c in without_provenance if c not in ROLLING]
        counts = ", ".join(f"count(*) filter (where {_differs([c])})" for c in compared)
        row = con.execute(
            f"select count(*), count(*) filter (where {_differs(compared)}), "
            f"count(*) filter (where {_differs(without_provenance)}), count(*) filter (where {_differs(stable)}), "
            f"{counts} from b.main.{TABLE} as b inner join a.main.{TABLE} as a using ({KEY})").fetchone()
        sizes = con.execute(
            f"select (select count(*) from b.main.{TABLE}), (select count(*) from a.main.{TABLE}), "
            f"(select count(*) from b.main.{TABLE} anti join a.main.{TABLE} using ({KEY})), "
            f"(select count(*) from a.main.{TABLE} anti join b.main.{TABLE} using ({KEY}))").fetchone()
    finally:
        con.close()
    per_column = dict(sorted(zip(compared, row[4:], strict=True), key=lambda kv: -kv[1]))
    return {
        "persons_before": sizes[0], "persons_after": sizes[1], "removed": sizes[2], "added": sizes[3],
        "kept": row[0], "differ_any_column": row[1], "differ_without_provenance": row[2],
        "differ_without_provenance_or_rolling": row[3], "provenance_columns": list(PROVENANCE),
        "rolling_columns": list(ROLLING), "per_column": per_column,
    }


def churn_markdown(runs: list[dict]) -> list[str]:
    """A table of what each monthly run changed in the published base (runs without a measurement skipped)."""
    measured = [r for r in runs if r.get("base_churn")]
    if not measured:
        return []

    def share(n: int, of: int) -> str:
        return f"{n:,} ({n / max(of, 1):.1%})"

    c0 = measured[0]["base_churn"]
    lines = ["", "## What a monthly run changes in the published base", "",
             f"Persons in both the previous and the new `{TABLE}` whose row differs. Provenance columns: "
             f"{', '.join(c0['provenance_columns'])}; values that move every month (age with birthdays, the others "
             "with the deliveries): "
             f"{', '.join(c0['rolling_columns'])}.", "",
             "| run | persons | added | removed | differ (any column) | without provenance | "
             "without provenance and monthly values | columns that differ most |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for run in measured:
        c = run["base_churn"]
        top = ", ".join(f"{k} {v / max(c['kept'], 1):.0%}" for k, v in list(c["per_column"].items())[:5])
        lines.append(f"| {run['label']} | {c['persons_after']:,} | {c['added']:,} | {c['removed']:,} | "
                     f"{share(c['differ_any_column'], c['kept'])} | {share(c['differ_without_provenance'], c['kept'])}"
                     f" | {share(c['differ_without_provenance_or_rolling'], c['kept'])} | {top} |")
    return lines
