"""A narrow fix for GX 1.24's SQL engine on DuckDB (great_expectations issues #10738, #11579).

`SqlAlchemyExecutionEngine.execute_query` returns a live cursor result from inside
`with self.get_connection()`: the connection is closed when the caller fetches, and duckdb-engine then
hands back no rows, so every metric of a DuckDB batch fails. The patched method buffers the rows inside
the block (a sqlalchemy `FrozenResult`, replayed). User-authored SQL (`UnexpectedRowsExpectation`,
always a `TextClause`) is answered with at most `MAX_RESULT_RECORDS` rows — GX reads no more example
rows from it (`fetchmany`) — so a query that matches millions of rows never lands in memory.

GX asks each such rule two questions, its row count and its example rows, as two queries over the same
SQL, so every rule scanned its batch twice. The patched method answers both from one scan: asked for the
count, it reads the count and up to `MAX_RESULT_RECORDS` example rows together (`arg_max(row, 0, n)`
keeps n rows, whichever, in bounded memory) and remembers the rows, per engine (one suite run), for the
example question that follows; the columns come from a `LIMIT 0` query, which reads nothing. At 10M
persons answering a count of 0 without a second scan halved the rule-query time of the social-insurance
suite; answering the examples of rules that do find rows saved ~1.7 s of the hukou suite's 10.8 s.

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
_ANSWERS = "_popbase_user_query_answers"
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


def _count_and_examples(engine: SqlAlchemyExecutionEngine, sub: str) -> tuple[int, list[str], list[tuple[Any, ...]]]:
    """A user query's row count, its column names and up to `MAX_RESULT_RECORDS` of its rows, in one scan."""
    keys = list(_run(engine, sa.text(f"SELECT * FROM ({sub}) AS popbase_capped LIMIT 0")).keys())
    row = _run(engine, sa.text(
        f"SELECT count(*), arg_max(popbase_row, 0, {MAX_RESULT_RECORDS}) FROM ({sub}) AS popbase_row"
    )).fetchone()
    count, examples = int(row[0]), row[1] or []
    return count, keys, [tuple(example.values()) for example in examples]


def _user_query(engine: SqlAlchemyExecutionEngine, text: str) -> Any:
    """A user query's count, or its example rows: both come from the first scan of it (see the docstring)."""
    answers: dict[str, tuple[int, list[str], list[tuple[Any, ...]]]] = engine.__dict__.setdefault(_ANSWERS, {})
    match = _COUNT_QUERY.fullmatch(text)
    sub = match["sub"].strip() if match else text
    if sub not in answers:
        answers[sub] = _count_and_examples(engine, sub)
    count, keys, rows = answers[sub]
    if match:
        return _replay(["unexpected_row_count"], [(count,)])
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
