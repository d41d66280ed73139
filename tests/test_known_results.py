"""A staging suite takes the stored outcome of a rule already run on the same rows, and only then.

Real GX and DuckDB on the small sample warehouse of test_quality. The oracle is the same suite run with
`take_known=False`: every outcome it computes must equal the one taken (examples aside: GX returns
whichever unexpected rows it meets first, so only a taken outcome's examples are compared, with the run it
was taken from).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.feeds import PROJECT_ROOT
from pipelines.lib.duck import connect
from pipelines.lib.quality.known_results import CHECK_CODE, PROVENANCE, REFERENCE_DATE
from pipelines.lib.quality.runner import SuiteOutcome, run_suite
from pipelines.lib.quality.sample import SAMPLE_REFERENCE_DATE, build_sample_warehouse
from pipelines.lib.quality.scorecard import record_outcome
from pipelines.lib.quality.suites import Suite, load_suite, load_suites

SUITES = {s.name: s for s in load_suites()}
STAGING = sorted(name for name, s in SUITES.items() if s.schema == "staging")
LATER = SAMPLE_REFERENCE_DATE + dt.timedelta(days=30)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(tmp_path / "work.duckdb")
    build_sample_warehouse(c, 500)
    yield c
    c.close()


def _counts(outcome: SuiteOutcome) -> list[tuple]:
    return [(o.rule.label, o.element_count, o.unexpected_count, o.rate, o.passed, o.gx_success, o.error)
            for o in outcome.outcomes]


def _checked(con: duckdb.DuckDBPyConnection, suite: Suite, run_id: str, ref: dt.date) -> SuiteOutcome:
    """The suite run as the asset check runs it (taking known outcomes), its outcomes stored under `run_id`."""
    outcome = run_suite(con, suite, ref)
    record_outcome(con, run_id, outcome)
    return outcome


def _uses(suite: Suite, text: str) -> set[str]:
    return {r.label for r in suite.rules if text in json.dumps([r.kwargs, r.denominator_query])}


@pytest.mark.parametrize("name", STAGING)
def test_a_suite_run_again_on_the_same_rows_takes_every_outcome(con: duckdb.DuckDBPyConnection, name: str) -> None:
    suite = SUITES[name]
    first = _checked(con, suite, "run-1", SAMPLE_REFERENCE_DATE)
    again = _checked(con, suite, "run-2", SAMPLE_REFERENCE_DATE)
    assert first.taken == 0 and again.taken == len(suite.rules)
    assert {o.computed_in_run for o in again.outcomes} == {"run-1"}
    assert _counts(again) == _counts(first) == _counts(run_suite(con, suite, SAMPLE_REFERENCE_DATE,
                                                                 take_known=False))
    assert [o.examples for o in again.outcomes] == [o.examples for o in first.outcomes]
    stored = con.execute("select count(*), count(*) filter (where computed_in_run = 'run-1') "
                         "from quality.expectation_results where run_id = 'run-2'").fetchall()
    assert stored == [(len(suite.rules), len(suite.rules))], "the scorecard sees a full run-2"


@pytest.mark.parametrize("name", STAGING)
def test_a_new_reference_date_runs_the_rules_that_use_it(con: duckdb.DuckDBPyConnection, name: str) -> None:
    suite = SUITES[name]
    _checked(con, suite, "run-1", SAMPLE_REFERENCE_DATE)
    later = _checked(con, suite, "run-2", LATER)
    computed = {o.rule.label for o in later.outcomes if o.computed_in_run is None}
    assert computed == _uses(suite, REFERENCE_DATE) and computed, "every suite has a rule on the reference date"
    assert _counts(later) == _counts(run_suite(con, suite, LATER, take_known=False))


def test_changed_rows_are_checked_again(con: duckdb.DuckDBPyConnection) -> None:
    suite = SUITES["stg_hukou"]
    clean = _checked(con, suite, "run-1", SAMPLE_REFERENCE_DATE)
    con.execute("update staging.stg_hukou set sex = '9' where citizen_id = (select min(citizen_id) "
                "from staging.stg_hukou)")
    changed = _checked(con, suite, "run-2", SAMPLE_REFERENCE_DATE)
    assert changed.taken == 0
    assert sum(o.unexpected_count for o in changed.outcomes) > sum(o.unexpected_count for o in clean.outcomes)
    con.execute("delete from staging.stg_hukou where sex = '9'")
    fewer = _checked(con, suite, "run-3", SAMPLE_REFERENCE_DATE)
    assert fewer.taken == 0 and fewer.row_count == clean.row_count - 1


def test_a_copied_delivery_takes_the_outcomes_of_the_delivery_it_repeats(con: duckdb.DuckDBPyConnection) -> None:
    suite = SUITES["stg_tax"]
    _checked(con, suite, "run-1", SAMPLE_REFERENCE_DATE)
    # what staging_copy does to a re-sent delivery: the same rows under a new delivery, date and file name
    con.execute("insert into staging.stg_tax select * replace ('tax/20260430/def' as delivery_id, "
                "date '2026-04-30' as delivery_date, 'tax_again.csv' as source_file) from staging.stg_tax")
    copied = _checked(con, suite, "run-2", SAMPLE_REFERENCE_DATE)
    computed = {o.rule.label for o in copied.outcomes if o.computed_in_run is None}
    naming_provenance = set().union(*(_uses(suite, column) for column in PROVENANCE))
    assert computed == naming_provenance and computed
    assert copied.row_count > 0 and copied.taken == len(suite.rules) - len(computed)
    assert _counts(copied) == _counts(run_suite(con, suite, SAMPLE_REFERENCE_DATE, take_known=False))


def test_a_changed_rule_is_run_again(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    suite = SUITES["stg_tax"]
    _checked(con, suite, "run-1", SAMPLE_REFERENCE_DATE)
    body = json.loads(json.dumps(suite.raw))
    body["expectations"][0]["meta"]["threshold"] = 0.5
    edited = tmp_path / "suites" / "stg_tax.json"
    edited.parent.mkdir()
    edited.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    again = _checked(con, load_suite(edited), "run-2", SAMPLE_REFERENCE_DATE)
    assert [o.computed_in_run is None for o in again.outcomes] == [True] + [False] * (len(suite.rules) - 1)


@pytest.mark.parametrize("name", sorted(set(SUITES) - set(STAGING)))
def test_suites_over_whole_tables_always_run(con: duckdb.DuckDBPyConnection, name: str) -> None:
    _checked(con, SUITES[name], "run-1", SAMPLE_REFERENCE_DATE)
    assert _checked(con, SUITES[name], "run-2", SAMPLE_REFERENCE_DATE).taken == 0


def test_a_working_file_from_before_gets_the_keys(con: duckdb.DuckDBPyConnection) -> None:
    """quality.expectation_results as earlier code created it (16 columns, rows kept): the columns are added."""
    con.execute("create schema quality")
    con.execute("create table quality.expectation_results (run_id varchar, run_at timestamp, suite varchar, "
                "table_name varchar, rule varchar, feed varchar, dimension varchar, measure varchar, severity varchar, "
                "blocking boolean, elements bigint, unexpected bigint, rate double, threshold double, passed boolean, "
                "error varchar)")
    con.execute("insert into quality.expectation_results (run_id, suite) values ('old-run', 'stg_tax')")
    suite = SUITES["stg_tax"]
    _checked(con, suite, "run-1", SAMPLE_REFERENCE_DATE)
    assert _checked(con, suite, "run-2", SAMPLE_REFERENCE_DATE).taken == len(suite.rules)
    assert con.execute("select count(*) from quality.expectation_results where run_id = 'old-run'").fetchall() == [(1,)]


def test_the_code_in_the_rule_key_exists() -> None:
    """A file renamed away would silently leave the rule key (a glob of a missing path matches nothing)."""
    assert all((PROJECT_ROOT / path).is_file() for path in CHECK_CODE)
    assert "pipelines/lib/quality/masking.py" in CHECK_CODE, "a stricter mask must not reuse older examples"
