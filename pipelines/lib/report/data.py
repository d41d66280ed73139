"""The report's numbers, read from a published file opened read-only (statistics marts only)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.duck import connect, sql_text


@dataclass(frozen=True)
class Rows:
    """A small query result: column names and rows."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows."""

    headline: dict[str, Any]
    pyramid: Rows
    counties: Rows
    coverage: Rows
    quarantine_trend: Rows


def _query(con: duckdb.DuckDBPyConnection, sql: str) -> Rows:
    cursor = con.execute(sql)
    return Rows([d[0] for d in cursor.description], cursor.fetchall())


def load(published_file: Path) -> ReportData:
    """Read the report's numbers; the file is opened read-only, so a running publish is never blocked."""
    con = connect(published_file, read_only=True, memory_limit="1GB")
    try:
        head = _query(con, sql_text("publish/report/headline.sql"))
        return ReportData(
            headline=dict(zip(head.columns, head.rows[0], strict=True)),
            pyramid=_query(con, sql_text("publish/report/pyramid.sql")),
            counties=_query(con, sql_text("publish/report/counties.sql")),
            coverage=_query(con, sql_text("publish/report/coverage.sql")),
            quarantine_trend=_query(con, sql_text("publish/report/quarantine_trend.sql")),
        )
    finally:
        con.close()
