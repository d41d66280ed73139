"""Streaming writers for one delivery: CSV (any encoding), JSON Lines, Parquet, XLSX; sha256 and manifest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

MAX_ROWS_PER_FILE = 4_000_000
INVALID_BYTES_MARK = "\x01"


@dataclass
class FileStat:
    name: str
    rows: int = 0
    sha256: str = ""
    bytes: int = 0


def csv_field(a: pa.Array) -> pa.Array:
    """Quote a CSV field only where needed (comma, quote, newline), RFC 4180 style."""
    a = a.cast(pa.string())
    need = pc.fill_null(pc.or_(pc.match_substring(a, ","), pc.match_substring(a, '"')), False)
    if not pc.any(need).as_py():
        return a
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(a, '"', '""'), '"', "")
    return pc.if_else(need, quoted, a)


def json_field(a: pa.Array, numeric: bool) -> pa.Array:
    """A JSON value: escaped string, or a bare number for numeric fields (empty → "")."""
    a = pc.fill_null(a.cast(pa.string()), "")
    if numeric:
        return a
    esc = pc.replace_substring(pc.replace_substring(a, "\\", "\\\\"), '"', '\\"')
    esc = pc.replace_substring(esc, "\t", "\\t")
    return pc.binary_join_element_wise('"', esc, '"', "")


def lines_bytes(lines: pa.Array) -> bytes:
    """All lines, each followed by a newline, as one UTF-8 byte string (no Python loop)."""
    joined = pc.binary_join_element_wise(lines, "", "\n").cast(pa.large_string())
    arr = joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    return arr.buffers()[2].to_pybytes()[offsets[0]: offsets[-1]]


@dataclass
class DeliveryWriter:
    """Writes the data files of one (feed, delivery), splitting into parts, then the manifest."""

    root: Path
    feed: str
    kind: str
    date: dt.date
    fmt: str  # csv, jsonl, parquet
    encoding: str
    headers: list[str]
    numeric: frozenset[str] = frozenset()
    files: list[FileStat] = field(default_factory=list)
    _fh: Any = None
    _hash: Any = None
    _pq: Any = None
    _part: int = 0

    @property
    def folder(self) -> Path:
        return self.root / self.feed / self.date.strftime("%Y%m%d")

    def _name(self, part: int) -> str:
        base = f"{self.feed}_{self.date.strftime('%Y%m%d')}"
        return f"{base}.{self.fmt}" if part == 0 else f"{base}_part{part + 1:02d}.{self.fmt}"

    def _open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stat = FileStat(self._name(self._part))
        self._part += 1
        self.files.append(stat)
        path = self.folder / stat.name
        if self.fmt == "parquet":
            self._pq = None
            self._fh = path
            return
        self._fh = open(path, "wb")  # noqa: SIM115 - closed in _close
        self._hash = hashlib.sha256()
        head = b""
        if self.fmt == "csv":
            enc = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
            head = (b"\xef\xbb\xbf" if self.encoding == "utf-8-sig" else b"") + (
                ",".join(self.headers) + "\n").encode(enc)
        self._write(head)

    def _write(self, data: bytes) -> None:
        if data:
            self._fh.write(data)
            self._hash.update(data)
            self.files[-1].bytes += len(data)

    def current(self) -> FileStat:
        """The file the next rows go to (opening a new part when the current one is full)."""
        if self._fh is None or self.files[-1].rows >= MAX_ROWS_PER_FILE:
            self._close()
            self._open()
        return self.files[-1]

    def write_lines(self, lines: pa.Array, patches: dict[int, bytes] | None = None) -> None:
        """Append text lines (already serialised rows); patches replace whole lines by raw bytes."""
        stat = self.current()
        text = lines_bytes(lines)
        if self.encoding == "gb18030":
            text = text.decode("utf-8").encode("gb18030")
        if INVALID_BYTES_MARK.encode() in text:
            text = text.replace(INVALID_BYTES_MARK.encode(), b"\xff")
        self._write(text)
        stat.rows += len(lines)

    def write_table(self, table: pa.Table) -> None:
        stat = self.current()
        if self._pq is None:
            self._pq = pq.ParquetWriter(self._fh, table.schema, compression="zstd")
        self._pq.write_table(table)
        stat.rows += table.num_rows

    def _close(self) -> None:
        if self._fh is None:
            return
        if self.fmt == "parquet":
            if self._pq is not None:
                self._pq.close()
            path = Path(self._fh)
            if not path.exists():
                pq.write_table(pa.table({h: pa.array([], pa.string()) for h in self.headers}), path)
            self.files[-1].sha256 = sha256_file(path)
            self.files[-1].bytes = path.stat().st_size
        else:
            self._fh.close()
            self.files[-1].sha256 = self._hash.hexdigest()
        self._fh = None
        self._pq = None

    def finish(self, manifest: bool = True) -> None:
        """Close the last file and write `_MANIFEST.json` last."""
        if self._fh is None and not self.files:
            self._open()
        self._close()
        if manifest:
            write_manifest(self.folder, self.feed, self.date, self.kind, self.files)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(folder: Path, feed: str, date: dt.date, kind: str, files: list[FileStat]) -> None:
    """The department's manifest, written after all data files (atomic rename)."""
    body = {"feed": feed, "delivery_date": date.isoformat(), "kind": kind,
            "files": [{"name": f.name, "rows": f.rows, "sha256": f.sha256} for f in files]}
    tmp = folder / "_MANIFEST.json.tmp"
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, folder / "_MANIFEST.json")


def write_xlsx(path: Path, sheet: str, headers: list[str], rows: list[list[Any]]) -> FileStat:
    """A small XLSX in constant-memory mode; cells are str, int/float (numbers) as given."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    wb.set_properties({"created": dt.datetime(2026, 1, 1)})  # fixed: same bytes for the same data
    ws = wb.add_worksheet(sheet)
    ws.write_row(0, 0, headers)
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            if v is None or v == "":
                continue
            if isinstance(v, (int, float)):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, v)
    wb.close()
    return FileStat(path.name, len(rows), sha256_file(path), path.stat().st_size)
