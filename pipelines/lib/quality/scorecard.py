"""Expectation results kept per run, and the scorecard: per feed and measure, the conforming rate
against the 2011 national pilot's bar, appended to `quality.scorecard` on every run."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb

from pipelines.lib.duck import table_exists
from pipelines.lib.quality.results_table import ensure_tables
from pipelines.lib.quality.runner import SuiteOutcome
from pipelines.lib.quality.suites import MEASURES, PILOT_THRESHOLDS

RESULT_COLUMNS = ("run_id", "run_at", "suite", "table_name", "rule", "feed", "dimension", "measure", "severity",
                  "blocking", "elements", "unexpected", "rate", "threshold", "passed", "error", "gx_success",
                  "examples", "rule_key", "batch_key", "date_key", "computed_in_run")


def record_outcome(con: duckdb.DuckDBPyConnection, run_id: str, outcome: SuiteOutcome) -> None:
    """Store one suite's per-rule results for this run (replacing an earlier try of the same run)."""
    ensure_tables(con)
    suite = outcome.suite
    con.execute("delete from quality.expectation_results where run_id = ? and suite = ?", [run_id, suite.name])
    table = f"{suite.schema}.{suite.table}"
    rows: list[list[Any]] = [
        [run_id, outcome.run_at, suite.name, table, o.rule.label, o.rule.feed or suite.feed or table,
         o.rule.dimension, o.rule.measure, o.rule.severity, o.rule.blocking, o.element_count,
         o.unexpected_count, o.rate, o.rule.threshold, o.passed, o.error, o.gx_success,
         json.dumps(list(o.examples), ensure_ascii=False, default=str),
         *((o.keys.rule_key, o.keys.batch_key, o.keys.date_key) if o.keys else (None, None, None)),
         o.computed_in_run or run_id]
        for o in outcome.outcomes
    ]
    if outcome.error:
        rows.append([run_id, outcome.run_at, suite.name, table, "table_exists", suite.feed or table,
                     "completeness", "completeness", "ERROR", suite.blocking, 0, 0, 0.0, None, False,
                     outcome.error, False, "[]", None, None, None, run_id])
    if rows:
        con.executemany(f"insert into quality.expectation_results ({', '.join(RESULT_COLUMNS)}) "
                        f"values ({', '.join('?' * len(RESULT_COLUMNS))})", rows)


def failed_rules(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    """The rules of this run that failed (below their bar, or in error), worst first within each suite."""
    ensure_tables(con)
    cur = con.execute(
        "select suite, table_name, rule, feed, dimension, severity, elements, unexpected, rate, threshold, error "
        "from quality.expectation_results where run_id = ? and not passed order by suite, rate, rule", [run_id])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def recorded_suites(con: duckdb.DuckDBPyConnection, run_id: str) -> set[str]:
    """Suites that already have results for this run (the checks ran before the scorecard)."""
    ensure_tables(con)
    rows = con.execute("select distinct suite from quality.expectation_results where run_id = ?", [run_id])
    return {r[0] for r in rows.fetchall()}


def _has_ops_deliveries(con: duckdb.DuckDBPyConnection) -> bool:
    return table_exists(con, "ops", "deliveries")


def append_scorecard(con: duckdb.DuckDBPyConnection, run_id: str, run_at: dt.datetime) -> list[dict[str, Any]]:
    """Aggregate this run's results per feed and measure (rate = the weakest rule's rate), judge each
    against the pilot bar, append to `quality.scorecard` and return the rows appended."""
    ensure_tables(con)
    latest = (
        "(select feed, arg_max(delivery_id, delivery_date) as delivery_id, max(delivery_date) as delivery_date "
        "from ops.deliveries where status = 'loaded' group by feed)"
        if _has_ops_deliveries(con)
        else "(select null::varchar as feed, null::varchar as delivery_id, null::date as delivery_date where false)"
    )
    con.execute("delete from quality.scorecard where run_id = ?", [run_id])
    con.execute(
        f"""
        insert into quality.scorecard
        select $run_id, $run_at, r.feed, d.delivery_id, d.delivery_date, r.measure, min(r.rate), bar.threshold,
               min(r.rate) >= bar.threshold, count(*)::integer, count(*) filter (where not r.passed)::integer
        from quality.expectation_results r
        join (select unnest($measures::varchar[]) as measure, unnest($thresholds::double[]) as threshold) as bar
            on bar.measure = r.measure
        left join {latest} d on d.feed = r.feed
        where r.run_id = $run_id
        group by r.feed, d.delivery_id, d.delivery_date, r.measure, bar.threshold
        """,
        {"run_id": run_id, "run_at": run_at, "measures": list(MEASURES),
         "thresholds": [PILOT_THRESHOLDS[m] for m in MEASURES]},
    )
    cur = con.execute(
        "select feed, delivery_id, delivery_date, dimension, rate, threshold, passed, rules, rules_failed "
        "from quality.scorecard where run_id = ? order by feed, dimension", [run_id]
    )
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def scorecard_markdown(rows: list[dict[str, Any]]) -> str:
    """The scorecard as a markdown table (no personal data in it)."""
    lines = ["| feed | delivery | measure | rate | bar | result | rules failed |", "|---|---|---|---:|---:|---|---:|"]
    for r in rows:
        verdict = "✅ pass" if r["passed"] else "❌ below bar"
        lines.append(
            f"| {r['feed']} | {r['delivery_date'] or ''} | {MEASURES.get(r['dimension'], '')} {r['dimension']} "
            f"| {r['rate']:.2%} | {r['threshold']:.0%} | {verdict} | {r['rules_failed']}/{r['rules']} |"
        )
    return "\n".join(lines)


def scorecard_history(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every scorecard row kept so far (for the trend charts)."""
    ensure_tables(con)
    cur = con.execute("select run_id, run_at, feed, dimension, rate, threshold, passed from quality.scorecard "
                      "order by run_at, feed, dimension")
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
