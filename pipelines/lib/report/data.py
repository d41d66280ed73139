"""The report's numbers, read from a published file opened read-only (statistics marts only)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.duck import connect, sql_text
from pipelines.lib.pseudonym import quote_ident

DATE_TYPES = ("DATE", "TIMESTAMP")
NUMERIC_PREFIXES = ("BIGINT", "INTEGER", "DOUBLE", "FLOAT", "DECIMAL", "HUGEINT", "SMALLINT", "REAL")
MAX_SCORE_SERIES = 6


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
    quality: Rows | None


def _query(con: duckdb.DuckDBPyConnection, sql: str) -> Rows:
    cursor = con.execute(sql)
    return Rows([d[0] for d in cursor.description], cursor.fetchall())


def quality_trend_sql(columns: list[tuple[str, str]]) -> str | None:
    """SQL averaging the numeric columns of quality_scorecard per date, or None if it has no date."""
    dates = [name for name, dtype in columns if dtype.startswith(DATE_TYPES)]
    numbers = [name for name, dtype in columns if dtype.startswith(NUMERIC_PREFIXES)]
    if not dates or not numbers:
        return None
    x = quote_ident(dates[0])
    series = ", ".join(f"avg({quote_ident(n)}) AS {quote_ident(n)}" for n in numbers[:MAX_SCORE_SERIES])
    return f"SELECT CAST({x} AS DATE) AS {x}, {series} FROM quality_scorecard GROUP BY 1 ORDER BY 1"


def load(published_file: Path) -> ReportData:
    """Read the report's numbers; the file is opened read-only, so a running publish is never blocked."""
    con = connect(published_file, read_only=True, memory_limit="1GB")
    try:
        head = _query(con, sql_text("publish/report/headline.sql"))
        scorecard = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = current_database() AND table_name = 'quality_scorecard' "
            "ORDER BY column_index"
        ).fetchall()
        quality_sql = quality_trend_sql(scorecard) if scorecard else None
        return ReportData(
            headline=dict(zip(head.columns, head.rows[0], strict=True)),
            pyramid=_query(con, sql_text("publish/report/pyramid.sql")),
            counties=_query(con, sql_text("publish/report/counties.sql")),
            coverage=_query(con, sql_text("publish/report/coverage.sql")),
            quarantine_trend=_query(con, sql_text("publish/report/quarantine_trend.sql")),
            quality=_query(con, quality_sql) if quality_sql else None,
        )
    finally:
        con.close()
