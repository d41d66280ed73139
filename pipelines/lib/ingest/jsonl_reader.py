"""JSON Lines files into raw: lines split with Arrow, parsed set-based with DuckDB's JSON functions.

Keys are the headers. A line that is not a JSON object (or holds undecodable bytes) is ROW_MALFORMED;
the header check runs on the set of keys present in the file. Values are the JSON text of numbers
and the unescaped text of strings (`json_extract_string`).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from pipelines.feeds import Feed
from pipelines.lib.duck import sql_text
from pipelines.lib.ingest.headers import check_header
from pipelines.lib.ingest.models import DeliveryRejected
from pipelines.lib.ingest.prefetch import prefetch
from pipelines.lib.ingest.schema import quote, raw_table
from pipelines.lib.ingest.sink import FileSink
from pipelines.lib.ingest.textstream import TextChunk, iter_text_chunks

LINES_VIEW = "_popbase_lines"
# DuckDB splits a scan into row groups of 122,880 rows, so a chunk must hold several for both cores to
# work on it: one 1 GB file at 10M persons took 21.0 s in 32 MB chunks (~130,000 lines), 13.7 s in 128 MB.
CHUNK_BYTES = 128 << 20
STRING_ARRAY_MAX_BYTES = np.iinfo(np.int32).max  # larger chunks (one line past CHUNK_BYTES) need 64-bit offsets
PREFETCH_CHUNKS = 2  # read and split ahead while DuckDB parses (bounds memory to a few chunks)
# the malformed lines of a chunk, without their line ends, and whether each is valid JSON
MALFORMED_SQL = ("SELECT source_row, rtrim(line, chr(13) || chr(10)), json_valid(line) FROM _popbase_jsonl "
                 "WHERE NOT is_object OR list_contains($bad, source_row) ORDER BY source_row")


def split_lines(chunk: TextChunk) -> pa.Table:
    """The chunk's non-blank lines and their 1-based line numbers, zero-copy.

    A line keeps its line end (JSON allows trailing whitespace; `MALFORMED_SQL` strips it from the text it
    quarantines). Blank lines are not rows: those of a line end only are found by their length, and the few
    lines that do not start with `{` are decoded and stripped one by one to find whitespace-only ones.
    """
    data = chunk.data
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10) + 1
    if ends.size == 0 or ends[-1] != arr.size:
        ends = np.append(ends, arr.size)
    wide = arr.size > STRING_ARRAY_MAX_BYTES
    offsets = np.concatenate(([0], ends)).astype(np.int64 if wide else np.int32)
    starts = offsets[:-1]
    keep = arr[starts] != 10
    for i in np.flatnonzero(keep & (arr[starts] != ord("{"))).tolist():
        keep[i] = bool(bytes(data[starts[i]:ends[i]]).decode("utf-8", "replace").strip())
    # 32-bit offsets unless the chunk needs more: DuckDB scans a string array faster than a large one
    array_type = pa.LargeStringArray if wide else pa.StringArray
    lines = array_type.from_buffers(ends.size, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))
    numbers = pa.array(np.arange(chunk.first_line, chunk.first_line + ends.size, dtype=np.int64))
    table = pa.table({"source_row": numbers, "line": lines})
    return table if keep.all() else table.filter(pa.array(keep))


def json_shape(feed: Feed) -> str:
    """The from_json structure: every header as VARCHAR (numbers keep their JSON text)."""
    return json.dumps({c.header: "VARCHAR" for c in feed.columns}, ensure_ascii=False)


def jsonl_insert_sql(feed: Feed) -> str:
    """INSERT of the classified JSON object lines into raw.<feed>; one JSON parse per line."""
    cols = ", ".join(quote(c) for c in feed.column_names)
    values = ", ".join(f"j.{quote(c.header)}" for c in feed.columns)
    shape = json_shape(feed).replace("'", "''")
    return (f"INSERT INTO {raw_table(feed)} (delivery_id, source_file, source_row, {cols}) "
            f"SELECT $delivery_id, $source_file, source_row, {values} "
            f"FROM (SELECT source_row, from_json(line, '{shape}') AS j FROM _popbase_jsonl "
            f"WHERE is_object AND NOT list_contains($bad_rows, source_row))")


def read_jsonl_file(con: duckdb.DuckDBPyConnection, sink: FileSink, feed: Feed, path: Path) -> int:
    """Load one JSON Lines file; returns the data rows received (loaded + malformed)."""
    known = set(feed.headers)
    keys_seen: set[str] = set()
    received = 0
    chunks = iter_text_chunks(path, feed.encoding, chunk_bytes=CHUNK_BYTES)
    for chunk, lines in prefetch(((c, split_lines(c)) for c in chunks), depth=PREFETCH_CHUNKS):
        received += lines.num_rows
        bad = {b.line_no: b for b in chunk.bad}
        con.register(LINES_VIEW, lines)
        try:
            con.execute(sql_text("ingest/jsonl_classify.sql"))
        finally:
            con.unregister(LINES_VIEW)
        keys = con.execute("SELECT DISTINCT unnest(json_keys(line)) FROM _popbase_jsonl "
                           "WHERE is_object").fetchall()
        keys_seen.update(k for (k,) in keys)
        unknown = keys_seen - known
        if unknown:
            check_header(feed, sink.source_file, sorted(keys_seen), ordered=False)
        inserted = con.execute(jsonl_insert_sql(feed), {"delivery_id": sink.delivery_id,
                                                        "source_file": sink.source_file,
                                                        "bad_rows": sorted(bad)}).fetchone()
        sink.rows_loaded += int(inserted[0]) if inserted else 0
        malformed = con.execute(MALFORMED_SQL, {"bad": sorted(bad)}).fetchall()
        for row, line, valid in malformed:  # the few malformed lines
            if row in bad:
                sink.malformed(row, bad[row].detail(feed.encoding), bad[row].text)
            elif valid:
                sink.malformed(row, f"line {row} is JSON but not an object of key/value pairs", line)
            else:
                sink.malformed(row, f"line {row} is not valid JSON (check quotes, commas, braces)", line)
    con.execute("DROP TABLE IF EXISTS _popbase_jsonl")
    if received and not keys_seen:
        raise DeliveryRejected(f"file {sink.source_file}: no line is a JSON object, so no keys to check")
    if received:
        check_header(feed, sink.source_file, sorted(keys_seen), ordered=False)
    sink.flush()
    return received
