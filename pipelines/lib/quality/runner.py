"""Run one suite on one DuckDB table with GX's SQL engine, on every row, and read the outcome.

GX talks to DuckDB through duckdb-engine over the caller's own connection (a cursor made by a
SQLAlchemy `creator`), so it sees the same file, memory cap and transaction state as the step, and no
second process-level connection (which DuckDB would refuse) is ever opened.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx
from duckdb_engine import ConnectionWrapper
from great_expectations.data_context.types.base import ProgressBarsConfig

from pipelines.lib.quality import gx_patch
from pipelines.lib.quality.known_results import KnownOutcome, RuleKeys, known_outcomes, rule_keys
from pipelines.lib.quality.masking import mask_error, mask_row, mask_value
from pipelines.lib.quality.suites import REFERENCE_DATE_VARIABLE, Rule, Suite, with_reference_date

EXAMPLES = 5
gx_patch.apply()  # once, on import: GX's SQL engine returns no rows from DuckDB without it
logging.getLogger("great_expectations").setLevel(logging.ERROR)


@dataclass(frozen=True)
class RuleOutcome:
    """What one expectation found: counts, the conforming rate, the verdict and masked examples."""

    rule: Rule
    element_count: int
    unexpected_count: int
    rate: float
    passed: bool
    gx_success: bool
    examples: tuple[Any, ...] = ()
    error: str | None = None
    keys: RuleKeys | None = None  # set when a later run may take this outcome (known_results)
    computed_in_run: str | None = None  # the earlier run whose outcome this is; None: computed now

    def summary(self) -> dict[str, Any]:
        """A metadata-safe dict (examples are already masked)."""
        r = self.rule
        return {
            "rule": r.label, "dimension": r.dimension, "measure": r.measure, "severity": r.severity,
            "blocking": r.blocking, "description": r.description_en, "description_zh": r.description_zh,
            "elements": self.element_count, "unexpected": self.unexpected_count,
            "rate": round(self.rate, 6), "threshold": r.threshold, "passed": self.passed,
            "examples": list(self.examples), **({"error": self.error} if self.error else {}),
            **({"computed_in_run": self.computed_in_run} if self.computed_in_run else {}),
        }


@dataclass(frozen=True)
class SuiteOutcome:
    """A suite's run on its table."""

    suite: Suite
    row_count: int
    outcomes: tuple[RuleOutcome, ...]
    seconds: float
    error: str | None = None
    run_at: dt.datetime = field(default_factory=dt.datetime.now)

    @property
    def failed(self) -> tuple[RuleOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.passed)

    @property
    def passed(self) -> bool:
        return self.error is None and not self.failed

    @property
    def taken(self) -> int:
        """How many outcomes were taken from earlier runs on the same rows instead of computed."""
        return sum(o.computed_in_run is not None for o in self.outcomes)

    @property
    def severity(self) -> str:
        """ERROR when the table is missing or an ERROR rule failed; WARN otherwise."""
        if self.error is not None or any(o.rule.severity == "ERROR" for o in self.failed):
            return "ERROR"
        return "WARN"


def _table_ref(suite: Suite) -> str:
    return f'"{suite.schema}"."{suite.table}"'


BATCH_DELIVERY = "popbase_batch_delivery"  # a DuckDB variable set on every cursor GX uses


def _batch_query(suite: Suite) -> str:
    """The rows a suite validates: a staging table's newest delivery (what the department just sent, so the
    checks do not grow with every month kept), or the whole table for marts.

    The delivery is looked up once and read from a variable: a constant filter lets DuckDB skip the row
    groups of older deliveries, where a subquery made every one of GX's queries scan and filter the whole
    table again (10M persons, on its own: the tax suite 6.6 -> 5.4 s)."""
    table = _table_ref(suite)
    if suite.schema != "staging":
        return f"select * from {table}"
    return f"select * from {table} where delivery_id = getvariable('{BATCH_DELIVERY}')"


def _newest_delivery(con: duckdb.DuckDBPyConnection, suite: Suite) -> str | None:
    """The staging table's newest delivery (None for other layers)."""
    if suite.schema != "staging":
        return None
    row = con.execute(f"select arg_max(delivery_id, delivery_date) from {_table_ref(suite)}").fetchone()
    return row[0] if row else None


def _table_exists(con: duckdb.DuckDBPyConnection, suite: Suite) -> bool:
    row = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?"
        " union all select count(*) from duckdb_views() where schema_name = ? and view_name = ?",
        [suite.schema, suite.table, suite.schema, suite.table],
    ).fetchall()
    return sum(r[0] for r in row) > 0


def _set_variables(cursor: duckdb.DuckDBPyConnection, delivery_id: str | None, reference_date: dt.date) -> None:
    """Set the batch's delivery and the reference date on one cursor (each cursor has its own variables)."""
    cursor.execute(f"set variable {BATCH_DELIVERY} = $delivery_id", {"delivery_id": delivery_id})
    cursor.execute(f"set variable {REFERENCE_DATE_VARIABLE} = $reference_date", {"reference_date": reference_date})


def _creator(con: duckdb.DuckDBPyConnection, schema: str, delivery_id: str | None,
             reference_date: dt.date) -> Any:
    def create() -> ConnectionWrapper:
        cursor = con.cursor()
        cursor.execute(f"set search_path = '{schema}'")  # a layer name: validated when the suite loads
        _set_variables(cursor, delivery_id, reference_date)
        return ConnectionWrapper(cursor)

    return create


def _denominator(con: duckdb.DuckDBPyConnection, suite: Suite, rule: Rule, row_count: int) -> int:
    if not rule.denominator_query:
        return row_count
    sql = with_reference_date(rule.denominator_query.replace("{batch}", f"({_batch_query(suite)})"))
    return int(con.execute(sql).fetchone()[0])


def _error_text(info: Any) -> str | None:
    if not info:
        return None
    items = info.values() if all(isinstance(v, dict) for v in info.values()) else [info]
    for item in items:
        if isinstance(item, dict) and item.get("raised_exception"):
            return mask_error(str(item.get("exception_message", "")))[:500]
    return None


def _outcome(con: duckdb.DuckDBPyConnection, suite: Suite, rule: Rule, res: Any, row_count: int) -> RuleOutcome:
    result: dict[str, Any] = dict(res.result or {})
    error = _error_text(res.exception_info)
    if error:
        return RuleOutcome(rule, row_count, row_count, 0.0, False, False, (), error)
    if rule.is_rows_query:
        unexpected = int(result.get("observed_value") or 0)
        total = _denominator(con, suite, rule, row_count)
        rows = (result.get("details") or {}).get("unexpected_rows") or []
        examples = tuple(mask_row(dict(r)) for r in rows[:EXAMPLES])
        rate = 1.0 - unexpected / total if total else (1.0 if unexpected == 0 else 0.0)
        passed = res.success if rule.threshold is None else rate >= rule.threshold
        return RuleOutcome(rule, total, unexpected, max(rate, 0.0), bool(passed), bool(res.success), examples)
    if "unexpected_count" in result:
        total = int(result.get("element_count") or row_count)
        unexpected = int(result.get("unexpected_count") or 0)
        values = result.get("partial_unexpected_list") or []
        examples = tuple(mask_value(rule.column, v) for v in values[:EXAMPLES])
        rate = 1.0 - unexpected / total if total else 1.0
        return RuleOutcome(rule, total, unexpected, rate, bool(res.success), bool(res.success), examples)
    observed = result.get("observed_value")
    examples = (mask_value(rule.column, observed),) if observed is not None and not res.success else ()
    return RuleOutcome(rule, 1, 0 if res.success else 1, 1.0 if res.success else 0.0, bool(res.success),
                       bool(res.success), examples)


def _known(rule: Rule, known: KnownOutcome, keys: RuleKeys) -> RuleOutcome:
    return RuleOutcome(rule, known.elements, known.unexpected, known.rate, known.passed, known.gx_success,
                       known.examples, keys=keys, computed_in_run=known.computed_in_run)


def _validate(con: duckdb.DuckDBPyConnection, suite: Suite, delivery_id: str | None, reference_date: dt.date,
              indices: set[int]) -> dict[int, Any]:
    """GX's results of the suite's rules at `indices` on the batch (rule index → expectation result)."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    tag = uuid.uuid4().hex[:8]
    source = context.data_sources.add_sql(
        f"duckdb_{tag}", connection_string="duckdb:///:memory:",
        kwargs={"creator": _creator(con, suite.schema, delivery_id, reference_date)},
    )
    batch = source.add_query_asset(suite.table, query=_batch_query(suite)).add_batch_definition_whole_table(
        "all_rows"
    )
    by_index: dict[int, Any] = {}
    try:
        body = suite.gx_json()
        for i, e in enumerate(body["expectations"]):
            e["meta"] = {**(e.get("meta") or {}), "rule_index": i}
        for kind, fmt in (("columns", "SUMMARY"), ("rows", "COMPLETE")):
            picked = [e for i, e in enumerate(body["expectations"])
                      if i in indices and (e["type"] == "unexpected_rows_expectation") == (kind == "rows")]
            if not picked:
                continue
            gx_suite = context.suites.add(gx.ExpectationSuite(
                name=f"{suite.name}_{kind}_{tag}", expectations=picked, meta=body.get("meta"),
            ))
            validation = context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{suite.name}_{kind}_{tag}", data=batch, suite=gx_suite)
            )
            result = validation.run(result_format=fmt)
            for res in result.results:
                by_index[int(res.expectation_config.meta["rule_index"])] = res
    finally:
        # the engines' pools hold cursors of `con`: closed here, not left to the interpreter's exit
        source.get_execution_engine().engine.dispose()
        source.get_engine().dispose()
    return by_index


def run_suite(con: duckdb.DuckDBPyConnection, suite: Suite, reference_date: dt.date, *,
              take_known: bool = True) -> SuiteOutcome:
    """Validate every row of `suite`'s table with GX (SQL engine on `con`) and score each rule.

    A rule already run on the same rows by the same code (and on the same reference date, if it uses one)
    is not run again: its stored outcome is taken (pipelines/lib/quality/known_results.py), unless
    `take_known` is False."""
    started = time.perf_counter()
    if not _table_exists(con, suite):
        return SuiteOutcome(suite, 0, (), time.perf_counter() - started,
                            error=f"table {suite.schema}.{suite.table} does not exist")
    delivery_id = _newest_delivery(con, suite)
    _set_variables(con, delivery_id, reference_date)  # for the counts and denominators run on `con` itself
    row_count = int(con.execute(f"select count(*) from ({_batch_query(suite)})").fetchone()[0])
    keys = rule_keys(con, suite, _batch_query(suite), delivery_id, reference_date)
    known = known_outcomes(con, suite, keys) if take_known else {}
    to_run = {rule.index for rule in suite.rules if rule.index not in known}
    results = _validate(con, suite, delivery_id, reference_date, to_run) if to_run else {}
    outcomes = tuple(
        _known(rule, known[rule.index], keys[rule.index]) if rule.index in known
        else replace(_outcome(con, suite, rule, results[rule.index], row_count), keys=keys.get(rule.index))
        for rule in suite.rules
    )
    return SuiteOutcome(suite, row_count, outcomes, time.perf_counter() - started)
