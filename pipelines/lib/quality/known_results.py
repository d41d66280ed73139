"""Outcomes of rules already run on the same rows: a staging suite does not validate the same data twice.

A staging suite checks one delivery, the feed's newest. Runs keep meeting deliveries whose rows were checked
before: an event feed without a new delivery is checked again in every run, and a snapshot re-sent unchanged is
copied, rows and all, from the delivery it repeats (pipelines/lib/ingest/reuse.py). A rule's outcome depends on
the rule, the code that runs it, the rows of its batch and, for rules that use `${reference_date}`, that date.
So every outcome is stored with three keys (quality.expectation_results), and a later run takes the stored
outcome instead of running the rule when all three match:

- `rule_key`: sha256 over the rule's JSON, its suite's table, and the code that loads, stages and checks rows
  and masks the examples (ingest.reuse.CODE_GLOBS, CHECK_CODE, the GX and DuckDB versions);
- `batch_key`: the batch's row count and the sum of a 64-bit hash of each row over every column except the
  three a copied delivery changes (delivery_id, delivery_date, source_file); a rule that names one of those also
  keys on the delivery itself;
- `date_key`: the reference date, for a rule that uses it.

The hash pass costs a fraction of the suite (1M persons: 0.2 s over the social-insurance batch, whose 24
rules take 1 s). A rule that reads another table than its batch is always run (those tables change with
other deliveries), and so is every rule of a suite over a whole table (marts: new rows every run).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import duckdb

from pipelines.lib.duck import sql_text
from pipelines.lib.fingerprint import files_digest
from pipelines.lib.ingest.reuse import CODE_GLOBS
from pipelines.lib.quality.results_table import ensure_tables
from pipelines.lib.quality.suites import SCHEMAS, Rule, Suite

# The columns a copied delivery rewrites; the rest of its staged rows equal the delivery it repeats.
PROVENANCE = ("delivery_id", "delivery_date", "source_file")
# The code that runs a rule and masks its examples: a stricter mask must not be answered with older examples.
CHECK_CODE = ("pipelines/lib/quality/runner.py", "pipelines/lib/quality/gx_patch.py",
              "pipelines/lib/quality/suites.py", "pipelines/lib/quality/masking.py",
              "pipelines/lib/quality/known_results.py")
# The layers a suite can check (suites.SCHEMAS) and the schemas of ledger, reference data and results.
READS_A_TABLE = re.compile(rf"\b({'|'.join((*SCHEMAS, 'ops', 'ref', 'quality'))})\.\w", re.IGNORECASE)
NAMES_PROVENANCE = re.compile(rf"\b({'|'.join(PROVENANCE)})\b")
REFERENCE_DATE = "${reference_date}"


@dataclass(frozen=True)
class RuleKeys:
    """What a rule's outcome depends on: the rule and code, the rows checked, the reference date."""

    rule_key: str
    batch_key: str
    date_key: dt.date | None


@dataclass(frozen=True)
class KnownOutcome:
    """A rule's outcome stored by an earlier run, on the same rows."""

    elements: int
    unexpected: int
    rate: float
    passed: bool
    gx_success: bool
    examples: tuple[Any, ...]
    computed_in_run: str


def _engine_digest() -> str:
    return files_digest((*CODE_GLOBS, *CHECK_CODE),
                        f"duckdb {duckdb.__version__} great_expectations {version('great_expectations')}")


def _rule_sql(rule: Rule) -> str:
    """Everything the rule runs or divides by, as text (its kwargs and denominator query)."""
    return json.dumps([rule.kwargs, rule.denominator_query], sort_keys=True, ensure_ascii=False)


def batch_fingerprint_sql(batch_query: str) -> str:
    """The row count and row-hash sum of a batch, provenance columns left out (see the module docstring)."""
    return (f"select count(*), sum(hash(*COLUMNS(* EXCLUDE ({', '.join(PROVENANCE)})))::hugeint) "
            f"from ({batch_query})")


def rule_keys(con: duckdb.DuckDBPyConnection, suite: Suite, batch_query: str, delivery_id: str | None,
              reference_date: dt.date) -> dict[int, RuleKeys]:
    """Keys of the suite's rules that can be taken from an earlier run (rule index → keys); none for a suite
    over a whole table. `batch_query` reads the batch (its variables set on `con`)."""
    if suite.schema != "staging" or delivery_id is None:
        return {}
    candidates = [(r, text) for r in suite.rules if not READS_A_TABLE.search(text := _rule_sql(r))]
    if not candidates:
        return {}
    count, row_hash_sum = con.execute(batch_fingerprint_sql(batch_query)).fetchall()[0]
    rows = f"{count}:{row_hash_sum}"
    keys = {}
    for rule, text in candidates:
        body = json.dumps(suite.raw["expectations"][rule.index], sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(f"{_engine_digest()}\n{suite.schema}.{suite.table}\n{body}".encode()).hexdigest()
        keys[rule.index] = RuleKeys(
            rule_key=digest,
            batch_key=f"{delivery_id}/{rows}" if NAMES_PROVENANCE.search(text) else rows,
            date_key=reference_date if REFERENCE_DATE in text else None,
        )
    return keys


def known_outcomes(con: duckdb.DuckDBPyConnection, suite: Suite,
                   keys: dict[int, RuleKeys]) -> dict[int, KnownOutcome]:
    """The newest stored outcome matching each rule's `keys` (rule index → outcome); rules without one are absent."""
    if not keys:
        return {}
    ensure_tables(con)
    rows = con.execute(sql_text("quality/known_results.sql"), {
        "suite": suite.name,
        "rule_keys": sorted({k.rule_key for k in keys.values()}),
        "batch_keys": sorted({k.batch_key for k in keys.values()}),
    }).fetchall()
    stored = {(r[0], r[1], r[2]): r[3:] for r in rows}
    found = {}
    for index, k in keys.items():
        row = stored.get((k.rule_key, k.batch_key, k.date_key))
        if row is not None:
            elements, unexpected, rate, passed, gx_success, examples, run = row
            found[index] = KnownOutcome(int(elements), int(unexpected), float(rate), bool(passed),
                                        bool(gx_success), tuple(json.loads(examples or "[]")), run)
    return found
