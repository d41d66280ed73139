"""The rule catalogue: GX 1.x suites in `expectations/<table>.json`, loaded and rendered.

A suite's file name is its name and the table it checks; its `meta` says where that table lives
(`schema`, `table`) and, for a staging suite, which `feed` it belongs to. Each expectation's `meta`
carries its quality dimension, severity, whether it blocks publishing, and Chinese/English wording.
`UnexpectedRowsExpectation` has no `mostly`: a rate rule says `meta.threshold` (and, when the share is
not "rows of this table", `meta.denominator_query`), and passes when 1 − unexpected/denominator ≥ it.
Queries may use `${reference_date}` (the date the run judges against, read from a DuckDB variable) besides
GX's own `{batch}`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pipelines.feeds import PROJECT_ROOT

SUITES_DIR = PROJECT_ROOT / "expectations"
# `${reference_date}` in a rule's SQL reads this DuckDB variable, which the runner sets on every cursor: the
# date is bound as a value, never pasted into the SQL text
REFERENCE_DATE_VARIABLE = "popbase_reference_date"
REFERENCE_DATE_SQL = f"getvariable('{REFERENCE_DATE_VARIABLE}')"
DIMENSIONS: dict[str, str] = {
    "validity": "规范性",
    "completeness": "完整性",
    "accuracy": "准确性",
    "consistency": "一致性",
    "timeliness": "时效性",
}
# Scorecard measures: the five dimensions, plus coverage (completeness rules marked `meta.measure:
# coverage`: the share of backbone persons present), which the pilot holds to a higher bar.
MEASURES: dict[str, str] = {**DIMENSIONS, "coverage": "覆盖率"}
# A table of the asset graph named in a rule's SQL (schema.table): the suite's check must run after it.
SCHEMAS = ("raw", "staging", "intermediate", "marts")  # the layers a suite can check
ASSET_TABLE_REFERENCE = re.compile(rf"\b({'|'.join(SCHEMAS)})\.([a-z_][a-z0-9_]*)\b")
# The 2011 national pilot's bars (rate of conforming records), one per measure.
PILOT_THRESHOLDS: dict[str, float] = {
    "coverage": 0.95,
    "completeness": 0.90,
    "consistency": 0.90,
    "accuracy": 0.90,
    "timeliness": 0.90,
    "validity": 0.90,
}
Severity = Literal["ERROR", "WARN"]


class SuiteError(ValueError):
    """A suite file is malformed; the message names the file and the expectation."""


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite with the project's metadata about it."""

    index: int
    type: str
    kwargs: dict[str, Any]
    dimension: str
    severity: Severity
    blocking: bool
    description_zh: str
    description_en: str
    threshold: float | None
    feed: str | None
    denominator_query: str | None
    measure: str

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    @property
    def label(self) -> str:
        """A short stable name: `expect_column_values_to_not_be_null(citizen_id)`."""
        return f"{self.type}({self.column})" if self.column else f"{self.type}#{self.index}"

    @property
    def is_rows_query(self) -> bool:
        return self.type == "unexpected_rows_expectation"


@dataclass(frozen=True)
class Suite:
    """A suite as stored: its GX JSON and the table it checks."""

    name: str
    schema: str
    table: str
    feed: str | None
    rules: tuple[Rule, ...]
    raw: dict[str, Any] = field(repr=False)

    @property
    def asset_key(self) -> list[str]:
        return [self.schema, self.table]

    @property
    def blocking(self) -> bool:
        return any(r.blocking for r in self.rules)

    @property
    def reads(self) -> list[list[str]]:
        """Asset keys of the other tables the rules' SQL reads (`marts.population_base` in a households rule):
        the check must run after them, or on a first run it finds no table and later it reads last run's."""
        texts = [r.denominator_query or "" for r in self.rules]
        texts += [v for r in self.rules for v in r.kwargs.values() if isinstance(v, str)]
        found = {(schema, table) for text in texts for schema, table in ASSET_TABLE_REFERENCE.findall(text)}
        return [list(key) for key in sorted(found) if list(key) != self.asset_key]

    def gx_json(self) -> dict[str, Any]:
        """The suite as GX reads it, `${reference_date}` reading the run's variable, our own meta kept."""
        return json.loads(with_reference_date(json.dumps(self.raw, ensure_ascii=False)))


def with_reference_date(sql: str) -> str:
    """A rule's SQL with `${reference_date}` reading the run's DuckDB variable (set by the runner)."""
    return sql.replace("${reference_date}", REFERENCE_DATE_SQL)


def _rule(path: Path, index: int, body: dict[str, Any]) -> Rule:
    meta = body.get("meta") or {}
    where = f"{path.name}, expectation {index} ({body.get('type')})"
    dimension = meta.get("dimension")
    if dimension not in DIMENSIONS:
        raise SuiteError(f"{where}: meta.dimension {dimension!r} is not one of {sorted(DIMENSIONS)}")
    if meta.get("severity") not in ("ERROR", "WARN"):
        raise SuiteError(f"{where}: meta.severity must be ERROR or WARN")
    for key in ("description_zh", "description_en"):
        if not meta.get(key):
            raise SuiteError(f"{where}: meta.{key} is missing")
    if meta.get("measure", dimension) not in MEASURES:
        raise SuiteError(f"{where}: meta.measure {meta.get('measure')!r} is not one of {sorted(MEASURES)}")
    threshold = meta.get("threshold", body.get("kwargs", {}).get("mostly"))
    return Rule(
        index=index,
        type=body["type"],
        kwargs=dict(body.get("kwargs") or {}),
        dimension=dimension,
        severity=meta["severity"],
        blocking=bool(meta.get("blocking", False)),
        description_zh=meta["description_zh"],
        description_en=meta["description_en"],
        threshold=float(threshold) if threshold is not None else None,
        feed=meta.get("feed"),
        denominator_query=meta.get("denominator_query"),
        measure=meta.get("measure", dimension),
    )


def load_suite(path: Path) -> Suite:
    """Read one suite file; its name must equal the file name and its meta must name schema and table."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SuiteError(f"cannot read suite {path}: {exc}") from exc
    if raw.get("name") != path.stem:
        raise SuiteError(f"{path.name}: suite name {raw.get('name')!r} must equal the file name")
    meta = raw.get("meta") or {}
    if meta.get("schema") not in SCHEMAS or meta.get("table") != path.stem:
        raise SuiteError(f"{path.name}: meta.schema must be one of {list(SCHEMAS)} and meta.table {path.stem!r}")
    rules = tuple(_rule(path, i, e) for i, e in enumerate(raw.get("expectations") or []))
    return Suite(path.stem, meta["schema"], meta["table"], meta.get("feed"), rules, raw)


@cache
def load_suites(directory: Path = SUITES_DIR) -> tuple[Suite, ...]:
    """Every suite of the catalogue, sorted by name."""
    return tuple(load_suite(p) for p in sorted(directory.glob("*.json")))
