"""XLSX files (the registry's named sheet) into raw via python-calamine, every cell as text.

Cell text rules: strings as they are; whole numbers below 1e15 without a trailing `.0`; larger
numbers (an ID Excel turned into a number) as Python's shortest round-trip text of the float held in
the cell, e.g. `3.30302199001011e+17`, so the lost precision stays visible and no digit is invented;
dates and datetimes as `YYYY-MM-DD` (a datetime with a time of day keeps ` HH:MM:SS`); Excel serial
numbers that are not formatted as dates stay as their number text. A sheet holds at most 1,048,576
rows; cells arrive from calamine as Python objects, converted per column in batches.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from python_calamine import CalamineWorkbook

from pipelines.feeds import Feed
from pipelines.lib.ingest.headers import check_header
from pipelines.lib.ingest.models import DeliveryRejected
from pipelines.lib.ingest.sink import FileSink

BATCH_ROWS = 50_000
EXACT_INTEGER_LIMIT = 1e15


def cell_text(value: Any) -> str:
    """The text of one cell, keeping exactly what the cell holds."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < EXACT_INTEGER_LIMIT:
            return str(int(value))
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d") if value.time() == dt.time() else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return "" if value is None else str(value)


def _column_text(values: tuple[Any, ...]) -> pa.Array:
    """A column of cells as a string array (fast path when calamine gave only strings)."""
    if all(type(v) is str for v in values):
        return pa.array(values, pa.string())
    return pa.array([cell_text(v) for v in values], pa.string())


def read_xlsx_file(sink: FileSink, feed: Feed, path: Path) -> int:
    """Load the feed's sheet of one workbook; returns the data rows received."""
    workbook = CalamineWorkbook.from_path(str(path))
    try:
        if feed.sheet not in workbook.sheet_names:
            raise DeliveryRejected(f"file {sink.source_file} has no sheet {feed.sheet!r} "
                                   f"(sheets: {', '.join(workbook.sheet_names)})")
        rows = workbook.get_sheet_by_name(feed.sheet or "").to_python(skip_empty_area=False)
    finally:
        workbook.close()
    if not rows:
        raise DeliveryRejected(f"file {sink.source_file}: sheet {feed.sheet!r} is empty (not even a header)")
    header = [cell_text(v) for v in rows[0]]
    while header and header[-1] == "":
        header.pop()
    names = check_header(feed, sink.source_file, header)
    width = len(names)
    last = len(rows)
    while last > 1 and all(v == "" for v in rows[last - 1]):
        last -= 1  # trailing empty rows are formatting, not data
    data = rows[1:last]
    for start in range(0, len(data), BATCH_ROWS):
        _write(sink, data[start:start + BATCH_ROWS], start + 1, names, width)
    sink.flush()
    return len(data)


def _write(sink: FileSink, batch: list[list[Any]], first_row: int, names: list[str], width: int) -> None:
    """Convert one batch column by column; rows with non-empty cells beyond the header are malformed."""
    sheet_width = max(len(r) for r in batch)
    padded = batch if all(len(r) == sheet_width for r in batch) else [
        list(itertools.islice(itertools.chain(r, itertools.repeat("")), sheet_width)) for r in batch]
    columns = [_column_text(c) for c in zip(*padded, strict=True)]
    while len(columns) < width:
        columns.append(pa.array([""] * len(batch), pa.string()))
    numbers = pa.array(range(first_row, first_row + len(batch)), pa.int64())
    table = pa.Table.from_arrays([numbers, *columns[:width]], names=["source_row", *names])
    if len(columns) > width:
        over = pc.not_equal(columns[width], "")
        for extra in columns[width + 1:]:
            over = pc.or_(over, pc.not_equal(extra, ""))
        if pc.any(over).as_py():
            for idx in pc.indices_nonzero(over).to_pylist():  # the few over-wide rows
                cells = [c[idx].as_py() for c in columns]
                while cells and cells[-1] == "":
                    cells.pop()
                sink.malformed(first_row + idx, f"row has {len(cells)} fields, the header has {width}",
                               ",".join(cells))
            table = table.filter(pc.invert(over))
    sink.write_batch(table)
