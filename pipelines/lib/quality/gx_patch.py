"""A narrow fix for GX 1.24's SQL engine on DuckDB (great_expectations issues #10738, #11579).

`SqlAlchemyExecutionEngine.execute_query` returns a live cursor result from inside
`with self.get_connection()`: the connection is closed when the caller fetches, and duckdb-engine then
hands back no rows, so every metric of a DuckDB batch fails. The patched method buffers the rows inside
the block (a sqlalchemy `FrozenResult`, replayed). User-authored SQL (`UnexpectedRowsExpectation`,
always a `TextClause`) is capped with `LIMIT MAX_RESULT_RECORDS` — GX reads at most that many example
rows from it (`fetchmany`), its COUNT runs separately and is left alone — so a query that matches
millions of rows never lands in memory and DuckDB can stop early.

The patch is applied only on DuckDB (dialect `duckdb`); other dialects keep GX's own method. Applying it
twice is harmless. Pinned to great-expectations==1.24.1 (requirements.lock); re-check on upgrade.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from great_expectations.constants import MAX_RESULT_RECORDS
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData

_ORIGINAL = SqlAlchemyExecutionEngine.execute_query
_MARK = "_popbase_duckdb_buffered"


def _buffer(result: Any, limit: int | None) -> Any:
    """The rows of `result` read now, as a result object that replays them after the connection closes."""
    if not result.returns_rows:
        return result
    if limit is None:
        return result.freeze()()
    keys = list(result.keys())
    rows = result.fetchmany(limit)
    result.close()
    return IteratorResult(SimpleResultMetaData(keys), iter(tuple(r) for r in rows))


def _limited(query: sa.TextClause) -> sa.TextClause:
    """A user query capped at the rows GX reads from it, so DuckDB can stop early (COUNT queries as is)."""
    text = query.text.strip()
    if text.upper().startswith("SELECT COUNT(*)"):
        return query
    return sa.text(f"SELECT * FROM ({text}) AS popbase_capped LIMIT {MAX_RESULT_RECORDS}")


def _execute_query_buffered(self: SqlAlchemyExecutionEngine, query: Any) -> Any:
    if getattr(self, "dialect_name", None) != "duckdb":
        return _ORIGINAL(self, query)
    limit = MAX_RESULT_RECORDS if isinstance(query, sa.TextClause) else None
    if isinstance(query, sa.TextClause):
        query = _limited(query)
    with self.get_connection() as connection:
        result = self._execute_query_with_recovery(connection, query)
        return _buffer(result, limit)


setattr(_execute_query_buffered, _MARK, True)


def apply() -> None:
    """Install the buffered `execute_query` (idempotent)."""
    SqlAlchemyExecutionEngine.execute_query = _execute_query_buffered  # type: ignore[method-assign]


def remove() -> None:
    """Restore GX's own method (used by the test that shows the bug exists without the patch)."""
    SqlAlchemyExecutionEngine.execute_query = _ORIGINAL  # type: ignore[method-assign]


def is_applied() -> bool:
    return bool(getattr(SqlAlchemyExecutionEngine.execute_query, _MARK, False))
