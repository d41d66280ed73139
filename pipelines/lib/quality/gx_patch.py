"""A narrow fix for GX 1.24's SQL engine on DuckDB (great_expectations issues #10738, #11579).

`SqlAlchemyExecutionEngine.execute_query` returns a live cursor result from inside
`with self.get_connection()`: the connection is closed when the caller fetches, and duckdb-engine then
hands back no rows, so every metric of a DuckDB batch fails. The patched method buffers the rows inside
the block (a sqlalchemy `FrozenResult`, replayed). User-authored SQL (`UnexpectedRowsExpectation`,
always a `TextClause`) is capped with `LIMIT MAX_RESULT_RECORDS` — GX reads at most that many example
rows from it (`fetchmany`) — so a query that matches millions of rows never lands in memory and DuckDB
can stop early.

GX asks each such rule two questions, its row count and its example rows, as two queries over the same
SQL; a rule that finds nothing still scans the whole batch twice. The patched method remembers, per
engine (one suite run), what one of them already told: a count of 0 needs no example query (the columns
come from a `LIMIT 0` query), and fewer example rows than the cap are the count. At 10M persons this
halved the rule-query time of the social-insurance suite.

The patch is applied only on DuckDB (dialect `duckdb`); other dialects keep GX's own method. Applying it
twice is harmless. Pinned to great-expectations==1.24.1 (requirements.lock); re-check on upgrade.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from great_expectations.constants import MAX_RESULT_RECORDS
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData

_ORIGINAL = SqlAlchemyExecutionEngine.execute_query
_MARK = "_popbase_duckdb_buffered"
_COUNTS = "_popbase_user_query_counts"
# how GX 1.24 counts a user query's rows (query_metrics/query_row_count); `sub` is the user query
_COUNT_QUERY = re.compile(r"SELECT COUNT\(\*\) as unexpected_row_count FROM \((?P<sub>.*)\) AS \w+", re.S)


def _buffer(result: Any) -> Any:
    """The rows of `result` read now, as a result object that replays them after the connection closes."""
    if not result.returns_rows:
        return result
    return result.freeze()()


def _replay(keys: list[str], rows: list[tuple[Any, ...]]) -> Any:
    return IteratorResult(SimpleResultMetaData(keys), iter(rows))


def _run(engine: SqlAlchemyExecutionEngine, query: Any) -> Any:
    with engine.get_connection() as connection:
        return _buffer(engine._execute_query_with_recovery(connection, query))


def _user_query(engine: SqlAlchemyExecutionEngine, text: str) -> Any:
    """A user query's count or example rows, each answered from the other when that one is known."""
    counts: dict[str, int] = engine.__dict__.setdefault(_COUNTS, {})
    match = _COUNT_QUERY.fullmatch(text)
    if match:
        sub = match["sub"].strip()
        if sub not in counts:
            row = _run(engine, sa.text(text)).fetchone()
            counts[sub] = int(row[0])
        return _replay(["unexpected_row_count"], [(counts[sub],)])
    if counts.get(text) == 0:
        return _run(engine, sa.text(f"SELECT * FROM ({text}) AS popbase_capped LIMIT 0"))
    result = _run(engine, sa.text(f"SELECT * FROM ({text}) AS popbase_capped LIMIT {MAX_RESULT_RECORDS}"))
    keys, rows = list(result.keys()), [tuple(r) for r in result]
    if len(rows) < MAX_RESULT_RECORDS:
        counts[text] = len(rows)
    return _replay(keys, rows)


def _execute_query_buffered(self: SqlAlchemyExecutionEngine, query: Any) -> Any:
    if getattr(self, "dialect_name", None) != "duckdb":
        return _ORIGINAL(self, query)
    if isinstance(query, sa.TextClause):
        return _user_query(self, query.text.strip())
    return _run(self, query)


setattr(_execute_query_buffered, _MARK, True)


def apply() -> None:
    """Install the buffered `execute_query` (idempotent)."""
    SqlAlchemyExecutionEngine.execute_query = _execute_query_buffered  # type: ignore[method-assign]


def remove() -> None:
    """Restore GX's own method (used by the test that shows the bug exists without the patch)."""
    SqlAlchemyExecutionEngine.execute_query = _ORIGINAL  # type: ignore[method-assign]


def is_applied() -> bool:
    return bool(getattr(SqlAlchemyExecutionEngine.execute_query, _MARK, False))
