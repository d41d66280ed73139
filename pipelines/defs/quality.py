"""The data-quality layer in Dagster: one `gx_<suite>` asset check per suite in `expectations/`, the
`quality/scorecard` asset (scorecard kept across runs + HTML report) and the `quality/feedback_packets`
asset (one XLSX per department and delivery). Built from the suite files; nothing per department.

Metadata carries counts, rates, masked examples and file paths only — never a full ID or a name.
"""

import datetime as dt
from typing import Any

import dagster as dg

from pipelines.defs.feed_assets import DUCKDB_POOL
from pipelines.defs.resources import PopbaseSettings, WorkDuckDB
from pipelines.lib.quality.feedback import make_feedback_dir, write_packets
from pipelines.lib.quality.report import write_report
from pipelines.lib.quality.runner import SuiteOutcome, run_suite
from pipelines.lib.quality.scorecard import (
    append_scorecard,
    failed_rules,
    record_outcome,
    recorded_suites,
    scorecard_history,
    scorecard_markdown,
)
from pipelines.lib.quality.suites import Suite, load_suites


def check_metadata(outcome: SuiteOutcome) -> dict[str, Any]:
    """Counts, rates and masked examples of a suite run, as Dagster metadata."""
    failed = outcome.failed
    table = ["| rule | dimension | severity | unexpected | rate | bar | result |", "|---|---|---|---:|---:|---:|---|"]
    for o in outcome.outcomes:
        bar = f"{o.rule.threshold:.0%}" if o.rule.threshold is not None else "100%"
        table.append(
            f"| {o.rule.description_en} | {o.rule.dimension} | {o.rule.severity} | {o.unexpected_count} "
            f"| {o.rate:.4%} | {bar} | {'pass' if o.passed else 'FAIL'} |"
        )
    return {
        "rows": dg.MetadataValue.int(outcome.row_count),
        "rules": dg.MetadataValue.int(len(outcome.outcomes)),
        "rules_failed": dg.MetadataValue.int(len(failed)),
        "rules_taken_from_earlier_runs": dg.MetadataValue.int(outcome.taken),
        "rules_failed_error": dg.MetadataValue.int(sum(o.rule.severity == "ERROR" for o in failed)),
        "seconds": dg.MetadataValue.float(round(outcome.seconds, 3)),
        "failures": dg.MetadataValue.json([o.summary() for o in failed]),
        "rules_table": dg.MetadataValue.md("\n".join(table)),
        **({"error": dg.MetadataValue.text(outcome.error)} if outcome.error else {}),
    }


OFFICE = "team:population_office"


def gx_check(suite: Suite) -> dg.AssetChecksDefinition:
    """The asset check `gx_<suite>` on `[schema, table]`: every row, every rule of the suite."""

    @dg.asset_check(
        asset=dg.AssetKey(suite.asset_key),
        additional_deps=[dg.AssetKey(key) for key in suite.reads],
        name=f"gx_{suite.name}",
        blocking=suite.blocking,
        pool=DUCKDB_POOL,
        description=f"GX suite expectations/{suite.name}.json ({len(suite.rules)} rules) on every row; a rule "
                    "already run on the same rows by the same code is taken from that run.",
    )
    def _check(
        context: dg.AssetCheckExecutionContext, duckdb: WorkDuckDB, popbase: PopbaseSettings
    ) -> dg.AssetCheckResult:
        with duckdb.connect() as con:
            outcome = run_suite(con, suite, popbase.settings().as_of_date)
            record_outcome(con, context.run.run_id, outcome)
        context.log.info(
            f"gx_{suite.name}: {len(outcome.failed)} of {len(outcome.outcomes)} rules failed "
            f"on {outcome.row_count} rows in {outcome.seconds:.1f}s"
            + (f" ({outcome.taken} outcomes taken from earlier runs on the same rows)" if outcome.taken else "")
        )
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity(outcome.severity),
            metadata=check_metadata(outcome),
        )

    return _check


def gx_asset_checks(suites: tuple[Suite, ...] | None = None) -> list[dg.AssetChecksDefinition]:
    """One check per suite file (the factory to wire into definitions)."""
    return [gx_check(s) for s in (suites if suites is not None else load_suites())]


def scorecard_asset(suites: tuple[Suite, ...] | None = None) -> dg.AssetsDefinition:
    """The `quality/scorecard` asset over the given suites (all suite files by default)."""
    suites = suites if suites is not None else load_suites()

    @dg.asset(
        key=["quality", "scorecard"],
        group_name="quality",
        kinds={"duckdb"},
        owners=[OFFICE],
        pool=DUCKDB_POOL,
        deps=sorted({dg.AssetKey(s.asset_key) for s in suites}, key=lambda k: k.to_user_string()),
    )
    def scorecard(
        context: dg.AssetExecutionContext, duckdb: WorkDuckDB, popbase: PopbaseSettings
    ) -> dg.MaterializeResult:
        """Data-quality scorecard: one row per run, feed (or mart), and measure (validity, completeness,
        coverage, accuracy, consistency, timeliness) with the weakest rule's rate against the 2011
        national pilot's bar; appended to `quality.scorecard` on every run, with an HTML report."""
        run_at = dt.datetime.now()
        ref = popbase.settings().as_of_date
        with duckdb.connect() as con:
            done = recorded_suites(con, context.run_id)
            for suite in suites:
                if suite.name not in done:
                    record_outcome(con, context.run_id, run_suite(con, suite, ref))
            rows = append_scorecard(con, context.run_id, run_at)
            history = scorecard_history(con)
            failed = failed_rules(con, context.run_id)
        report = write_report(
            make_feedback_dir(popbase.settings().warehouse_dir, run_at.date()) / "quality_report.html",
            rows,
            history,
            context.run_id,
            failed=failed,
            descriptions={(s.name, r.label): (r.description_zh, r.description_en) for s in suites for r in s.rules},
        )
        below = [r for r in rows if not r["passed"]]
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": dg.MetadataValue.int(len(rows)),
                "measures_below_bar": dg.MetadataValue.int(len(below)),
                "below_bar": dg.MetadataValue.json(
                    [{"feed": r["feed"], "measure": r["dimension"], "rate": round(r["rate"], 6)} for r in below]
                ),
                "scorecard": dg.MetadataValue.md(scorecard_markdown(rows)),
                "report": dg.MetadataValue.path(str(report)),
            }
        )

    return scorecard


def feedback_packets_asset() -> dg.AssetsDefinition:
    """The `quality/feedback_packets` asset."""

    @dg.asset(
        key=["quality", "feedback_packets"],
        group_name="quality",
        kinds={"duckdb", "excel"},
        owners=[OFFICE],
        pool=DUCKDB_POOL,
        deps=[dg.AssetKey(["marts", "deliveries"]), dg.AssetKey(["marts", "person_flags"]),
              dg.AssetKey(["marts", "population_history"])],
    )
    def feedback_packets(
        context: dg.AssetExecutionContext, duckdb: WorkDuckDB, popbase: PopbaseSettings
    ) -> dg.MaterializeResult:
        """Department feedback: one XLSX listing every quarantined row and every flag its records raised,
        with reasons, suggested corrections and the reply deadline. Grain: one file per delivery — each
        feed's latest (with the feed's flags) and every delivery that never had one (its quarantined rows)."""
        run_date = dt.date.today()
        with duckdb.connect() as con:
            packets = write_packets(con, popbase.settings().warehouse_dir, run_date)
        return dg.MaterializeResult(
            metadata={
                "packets": dg.MetadataValue.int(len(packets)),
                "quarantined_rows": dg.MetadataValue.int(sum(p.quarantined for p in packets)),
                "flags": dg.MetadataValue.int(sum(p.flags for p in packets)),
                "suggested_corrections": dg.MetadataValue.int(sum(p.suggestions for p in packets)),
                "reply_by": dg.MetadataValue.text(packets[0].deadline.isoformat() if packets else ""),
                "files": dg.MetadataValue.json(
                    [
                        {
                            "feed": p.feed,
                            "delivery_date": p.delivery_date.isoformat(),
                            "path": str(p.path),
                            "quarantined": p.quarantined,
                            "flags": p.flags,
                        }
                        for p in packets
                    ]
                ),
            }
        )

    return feedback_packets


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[scorecard_asset(), feedback_packets_asset()],
        asset_checks=gx_asset_checks(),
    )
