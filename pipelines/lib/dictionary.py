"""The data dictionary of the published files (`assets/warehouse.yml`): comments and privacy kinds.

One place classifies every published column. The kind decides what the analyst snapshot does with it
(keep, pseudonymise, coarsen to year-month, remove); the labels become the `COMMENT ON` of both files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from pipelines.feeds import PROJECT_ROOT, registry

DICTIONARY_PATH = PROJECT_ROOT / "assets" / "warehouse.yml"
SEPARATOR = " | "

REMOVED_KINDS: frozenset[str] = frozenset({"name", "address", "raw", "free_text", "locator"})
KINDS: frozenset[str] = frozenset({"public", "citizen_id", "identifier", "exact_date"}) | REMOVED_KINDS


class DictionaryError(ValueError):
    """warehouse.yml is inconsistent, or a published table or column is not classified in it."""


@dataclass(frozen=True)
class ColumnSpec:
    """One published column: its privacy kind and its Chinese and English labels."""

    name: str
    kind: str
    zh: str
    en: str

    @property
    def removed(self) -> bool:
        """True when the analyst snapshot drops the column."""
        return self.kind in REMOVED_KINDS

    @property
    def analyst_name(self) -> str:
        """The column's name in the analyst snapshot (for kept columns)."""
        if self.kind == "citizen_id":
            return self.name.replace("citizen_id", "person_key")
        if self.kind == "identifier":
            stem = self.name.removesuffix("_no").removesuffix("_number").removesuffix("_id")
            return f"{stem}_key"
        if self.kind == "exact_date":
            return f"{self.name.removesuffix('_date')}_year_month"
        return self.name

    @property
    def analyst_labels(self) -> tuple[str, str]:
        """(zh, en) of the column as it appears in the analyst snapshot."""
        if self.kind == "citizen_id":
            return f"{self.zh}的假名（密钥化 HMAC-SHA256）", f"pseudonym of the {self.en} (keyed HMAC-SHA256)"
        if self.kind == "identifier":
            return f"{self.zh}的假名（密钥化 HMAC-SHA256）", f"pseudonym of the {self.en} (keyed HMAC-SHA256)"
        if self.kind == "exact_date":
            return f"{self.zh}（仅年月 YYYY-MM）", f"{self.en}, year and month only (YYYY-MM)"
        return self.zh, self.en


@dataclass(frozen=True)
class TableSpec:
    """One published table: where it comes from, its labels and its columns."""

    name: str
    source: str
    zh: str
    en: str
    columns: dict[str, ColumnSpec]


def comment_text(zh: str, en: str) -> str:
    """The COMMENT ON text of a table or column: Chinese, then English."""
    return f"{zh}{SEPARATOR}{en}"


def _labels_from_registry(ref: str, column: str) -> tuple[str, str]:
    feed_name, _, col_name = ref.partition(".")
    feeds = registry().feeds
    if feed_name not in feeds:
        raise DictionaryError(f"warehouse.yml: label_from names unknown feed {feed_name!r}")
    try:
        col = feeds[feed_name].column(col_name or column)
    except KeyError as exc:
        raise DictionaryError(f"warehouse.yml: label_from {ref!r}: {exc}") from exc
    return col.zh, col.en


COLUMN_KEYS = frozenset({"kind", "zh", "en", "label_from"})


def _column(table: str, name: str, body: dict) -> ColumnSpec:
    unknown = sorted(set(body) - COLUMN_KEYS)
    if unknown:  # also catches an unquoted comma in a flow mapping, which YAML reads as a new key
        raise DictionaryError(f"warehouse.yml: {table}.{name} has unknown keys {unknown}; quote text with commas")
    kind = body.get("kind")
    if kind not in KINDS:
        raise DictionaryError(f"warehouse.yml: {table}.{name} has kind {kind!r}; use one of {sorted(KINDS)}")
    if "label_from" in body:
        zh, en = _labels_from_registry(str(body["label_from"]), name)
    else:
        zh, en = body.get("zh"), body.get("en")
    if not zh or not en:
        raise DictionaryError(f"warehouse.yml: {table}.{name} needs zh and en (or label_from)")
    for text in (zh, en):
        if SEPARATOR in text:
            raise DictionaryError(f"warehouse.yml: {table}.{name}: labels must not contain {SEPARATOR!r}")
    return ColumnSpec(name=name, kind=kind, zh=str(zh), en=str(en))


def load_dictionary(path: Path = DICTIONARY_PATH) -> dict[str, TableSpec]:
    """Read and validate warehouse.yml: table name → TableSpec."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    tables: dict[str, TableSpec] = {}
    for tname, body in (data.get("tables") or {}).items():
        source = body.get("source", "marts")
        if source not in ("marts", "publish"):
            raise DictionaryError(f"warehouse.yml: table {tname!r} has source {source!r}; use marts or publish")
        if not body.get("zh") or not body.get("en"):
            raise DictionaryError(f"warehouse.yml: table {tname!r} needs zh and en")
        cols = {c: _column(tname, c, cbody or {}) for c, cbody in (body.get("columns") or {}).items()}
        tables[tname] = TableSpec(name=tname, source=source, zh=body["zh"], en=body["en"], columns=cols)
    return tables


@cache
def dictionary() -> dict[str, TableSpec]:
    """The project's data dictionary, loaded once per process."""
    return load_dictionary()


def check_classified(tables: dict[str, TableSpec], present: dict[str, list[str]]) -> None:
    """Fail, naming every table and column, when a published table or column is not in warehouse.yml.

    `present` maps a table name to its column names as found in the database.
    """
    problems: list[str] = []
    for tname, columns in sorted(present.items()):
        spec = tables.get(tname)
        if spec is None:
            problems.append(f"table {tname!r} is not in assets/warehouse.yml")
            continue
        problems.extend(
            f"column {tname}.{c} is not classified in assets/warehouse.yml" for c in columns
            if c not in spec.columns
        )
    if problems:
        raise DictionaryError(
            "publishing stopped, every published table and column needs an entry (kind, zh, en) in "
            "assets/warehouse.yml:\n  " + "\n  ".join(problems)
        )
