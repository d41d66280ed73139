"""Masking for anything personal that could reach Dagster metadata or logs.

Citizen IDs keep their address code and last four characters (`330302********123X`); names keep their
first character (`张*`). Free text is scanned for ID-like runs, so an ID inside a detail string is
masked too. Error messages, which can quote any value of a row, keep only their structure (`mask_error`).
"""

from __future__ import annotations

import re
from typing import Any

ID_LIKE = re.compile(r"(?<![0-9A-Za-z])([0-9]{6})([0-9]{5,8})([0-9]{3}[0-9Xx]|[0-9]{1,3})(?![0-9A-Za-z])")
ID_COLUMN_MARKERS = ("citizen_id", "id_number", "value", "offending")
QUOTED_LITERAL = re.compile(r"'[^']*'")
LONG_DIGIT_RUN = re.compile(r"[0-9０-９]{6,}")
HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def mask_id(value: str) -> str:
    """`330302199001011234` → `330302********1234`; short or odd values are starred but for 2 chars."""
    text = str(value)
    if len(text) >= 10:
        return text[:6] + "*" * (len(text) - 10) + text[-4:]
    return text[:1] + "*" * max(len(text) - 1, 0)


def mask_name(value: str) -> str:
    """`张三丰` → `张**`."""
    text = str(value)
    return text[:1] + "*" * max(len(text) - 1, 1) if text else text


def mask_text(value: str) -> str:
    """Free text with every ID-like digit run (9+ digits) masked."""
    return ID_LIKE.sub(lambda m: mask_id(m.group(0)), str(value))


def mask_error(error: BaseException | str) -> str:
    """An error's text fit for a log or a message: quoted literals, runs of 6+ digits and Chinese text
    masked (DuckDB and GX messages quote row values: an ID, a name). An exception keeps its type's name."""
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    return HAN_RUN.sub("…", LONG_DIGIT_RUN.sub("…", QUOTED_LITERAL.sub("'…'", text)))


def _is_name_column(column: str) -> bool:
    col = column.lower()
    return col == "name" or (col.endswith("_name") and not col.startswith(("school", "agent", "employer")))


def mask_value(column: str | None, value: Any) -> Any:
    """A value from `column`, masked by what the column holds; non-text values pass through."""
    if value is None or isinstance(value, bool | int | float):
        if isinstance(value, int) and len(str(abs(value))) >= 9:
            return mask_id(str(value))
        return value
    text = str(value)
    if column and _is_name_column(column):
        return mask_name(text)
    if column and any(m in column.lower() for m in ID_COLUMN_MARKERS):
        return mask_id(text) if len(text) >= 6 else text
    return mask_text(text)


def mask_row(row: dict[str, Any]) -> dict[str, Any]:
    """Every value of a result row masked by its column name."""
    return {k: mask_value(k, v) for k, v in row.items()}
