"""The feed registry: `assets/feeds.yml` loaded and validated once.

Every per-feed piece of the pipeline (readers, raw and staging SQL, Dagster assets and checks, the
generator's headers) is generated from these objects, so adding a department is a registry entry.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REGISTRY_PATH = PROJECT_ROOT / "assets" / "feeds.yml"

ColumnType = Literal[
    "citizen_id",
    "id_number",
    "text",
    "name",
    "code",
    "sex",
    "date",
    "year_month",
    "integer",
    "amount",
    "share",
]
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")


class RegistryError(ValueError):
    """The feed registry is inconsistent; the message names the feed and the field."""


class Column(BaseModel):
    """One delivered column: its header as delivered and its canonical name and type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    header: str
    name: str
    type: ColumnType
    zh: str
    en: str
    required: bool = False
    codes: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Column:
        if not SNAKE_CASE.match(self.name):
            raise ValueError(f"column name {self.name!r} is not snake_case")
        if (self.type == "code") != (self.codes is not None):
            raise ValueError(f"column {self.name!r}: `codes` is required for type code and only for it")
        return self


class PersonRole(BaseModel):
    """Which staging columns describe one person a row mentions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    sex: str | None = None
    birth_date: str | None = None
    activity_date: str | None = None
    sex_expected: Literal["男", "女"] | None = None

    def source_columns(self) -> list[str]:
        """The registry columns this role reads (the ID by its delivered column, see staging_id_column)."""
        return [c for c in (self.name, self.sex, self.birth_date, self.activity_date) if c is not None]


def staging_id_column(column: Column) -> str:
    """The staging column holding the citizen ID read from `column` (`x_id_number` → `x_citizen_id`)."""
    return column.name.replace("id_number", "citizen_id") if column.type == "id_number" else column.name


class Feed(BaseModel):
    """One departmental feed as declared in the registry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title_zh: str
    title_en: str
    department_zh: str
    department_en: str
    owner: str
    trust: int = Field(ge=1)
    kind: Literal["snapshot", "events"]
    format: Literal["csv", "jsonl", "xlsx", "parquet"]
    also_formats: tuple[Literal["csv", "jsonl", "xlsx", "parquet"], ...] = ()
    sheet: str | None = None
    encoding: Literal["utf-8", "utf-8-sig", "gb18030"]
    date_format: str
    cadence_days: int = Field(gt=0)
    grace_days: int = Field(ge=0)
    natural_key: tuple[str, ...]
    id_type_column: str | None = None
    period_column: str | None = None
    persons: tuple[PersonRole, ...]
    columns: tuple[Column, ...]

    @property
    def headers(self) -> list[str]:
        """Headers exactly as the department delivers them, in order."""
        return [c.header for c in self.columns]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"feed {self.name!r} has no column {name!r}")

    @property
    def id_columns(self) -> list[Column]:
        """Columns that hold a citizen ID (always, or when the ID-type column says 居民身份证)."""
        return [c for c in self.columns if c.type in ("citizen_id", "id_number")]

    @property
    def formats(self) -> tuple[str, ...]:
        return (self.format, *self.also_formats)


class Registry(BaseModel):
    """All feeds and the code lists they refer to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    citizen_id_types: tuple[str, ...]
    feeds: dict[str, Feed]
    code_lists: dict[str, dict[str, str]]

    @model_validator(mode="after")
    def _check_references(self) -> Registry:
        problems: list[str] = []
        for name, feed in self.feeds.items():
            names = feed.column_names
            headers = feed.headers
            for dup in {n for n in names if names.count(n) > 1}:
                problems.append(f"feed {name!r}: column name {dup!r} declared twice")
            for dup in {h for h in headers if headers.count(h) > 1}:
                problems.append(f"feed {name!r}: header {dup!r} declared twice")
            for key in feed.natural_key:
                if key not in names:
                    problems.append(f"feed {name!r}: natural_key names unknown column {key!r}")
            for col in feed.columns:
                if col.codes is not None and col.codes not in self.code_lists:
                    problems.append(f"feed {name!r}, column {col.name!r}: unknown code list {col.codes!r}")
            has_id_number = any(c.type == "id_number" for c in feed.columns)
            if has_id_number != (feed.id_type_column is not None):
                problems.append(f"feed {name!r}: id_number columns need id_type_column, and only they do")
            if feed.id_type_column is not None and feed.id_type_column not in names:
                problems.append(f"feed {name!r}: id_type_column {feed.id_type_column!r} is not a column")
            if feed.period_column is not None and (
                feed.kind != "events"
                or feed.period_column not in names
                or feed.column(feed.period_column).type not in ("date", "year_month")
            ):
                problems.append(f"feed {name!r}: period_column must be a date or year_month column of an events feed")
            if [f.trust for f in self.feeds.values()].count(feed.trust) > 1:
                problems.append(f"feed {name!r}: trust {feed.trust} is shared with another feed")
            if "xlsx" in feed.formats and not feed.sheet:
                problems.append(f"feed {name!r}: xlsx feeds must name their sheet")
            if not feed.id_columns:
                problems.append(f"feed {name!r}: no citizen ID column")
            id_names = {staging_id_column(c) for c in feed.id_columns}
            for role in feed.persons:
                if role.id not in id_names:
                    problems.append(f"feed {name!r}: persons id {role.id!r} is not a citizen ID column")
                for col in role.source_columns():
                    if col not in names:
                        problems.append(f"feed {name!r}: persons names unknown column {col!r}")
        if problems:
            raise RegistryError("feed registry is invalid:\n  " + "\n  ".join(problems))
        return self

    def codes(self, column: Column) -> dict[str, str]:
        if column.codes is None:
            raise KeyError(f"column {column.name!r} has no code list")
        return self.code_lists[column.codes]


def load_registry(path: Path = REGISTRY_PATH) -> Registry:
    """Read and validate the registry; a broken registry raises RegistryError naming the problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RegistryError(f"cannot read the feed registry {path}: {exc}") from exc
    try:
        feeds = {name: {"name": name, **body} for name, body in (data.get("feeds") or {}).items()}
        return Registry(**{**data, "feeds": feeds})
    except ValidationError as exc:
        raise RegistryError(f"feed registry {path} is invalid:\n{exc}") from exc


@cache
def registry() -> Registry:
    """The project's registry, loaded once per process."""
    return load_registry()
