"""A FeedChunk as delivered bytes: CSV lines, JSON Lines, a Parquet table, or XLSX cell rows."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.feeds import Feed
from pipelines.lib.generator.feeds_build import FeedChunk
from pipelines.lib.generator.writers import csv_field, json_field

NUMERIC_JSON = frozenset({"months_paid"})
_SCI = re.compile(r"^\d\.\d+E\+17$")
_SERIAL = re.compile(r"^\d{5}$")


def _edit_lines(lines: pa.Array, edits: dict[int, str]) -> pa.Array:
    if not edits:
        return lines
    rows = sorted(edits)
    mask = np.zeros(len(lines), dtype=bool)
    mask[rows] = True
    new = []
    for r in rows:
        line = lines[r].as_py()
        if edits[r] == "wrong_fields":
            new.append(line + ",多余字段" if r % 2 == 0 else line.rsplit(",", 2)[0])
        else:  # bad_json: cut the closing brace and a bit more
            new.append(line[: max(1, len(line) - 3)])
    return pc.replace_with_mask(lines, pa.array(mask), pa.array(new, pa.string()))


def csv_lines(feed: Feed, fc: FeedChunk, edits: dict[int, str]) -> pa.Array:
    """One CSV line per row, fields in registry order, quoted only where needed."""
    fields = [pc.fill_null(csv_field(fc.cols[c.name]), "") for c in feed.columns]
    lines = pc.binary_join_element_wise(*fields, ",") if len(fields) > 1 else fields[0]
    return _edit_lines(lines, edits)


def jsonl_lines(feed: Feed, fc: FeedChunk, edits: dict[int, str]) -> pa.Array:
    """One JSON object per row with the registry's keys (numbers bare, everything else a string)."""
    parts: list[Any] = []
    for i, c in enumerate(feed.columns):
        parts.append(("{" if i == 0 else ",") + f'"{c.header}":')
        parts.append(json_field(fc.cols[c.name], c.name in NUMERIC_JSON))
    parts.append("}")
    return _edit_lines(pc.binary_join_element_wise(*parts, ""), edits)


def parquet_table(feed: Feed, fc: FeedChunk) -> pa.Table:
    """String columns with the registry's Chinese headers."""
    return pa.table({c.header: fc.cols[c.name].cast(pa.string()) for c in feed.columns})


def xlsx_rows(feed: Feed, fc: FeedChunk) -> list[list[Any]]:
    """Cell values: text, except Excel-mangled IDs (floats) and Excel date serials (ints)."""
    cols = [fc.cols[c.name].to_pylist() for c in feed.columns]
    rows = []
    for values in zip(*cols, strict=True):
        row: list[Any] = []
        for c, v in zip(feed.columns, values, strict=True):
            if v and c.type == "citizen_id" and _SCI.match(v):
                row.append(float(v))
            elif v and c.type == "date" and _SERIAL.match(v):
                row.append(int(v))
            else:
                row.append(v)
        rows.append(row)
    return rows
