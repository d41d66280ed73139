"""How much of a re-delivered snapshot is new, and what finding that out costs (a measurement, not pipeline code).

    .venv/bin/python benchmarks/snapshot_diff.py --landing var/bench/gen_p10000000_m3_s1 \
        --old 20260930 --new 20261031 [--json benchmarks/results/snapshot_diff_10000000.json]

For every snapshot feed (its manifest says `"kind": "snapshot"`), each row of the old and of the new delivery is
hashed, and the new delivery's rows are compared with the old one's. Text files (CSV, JSON Lines) are read as
bytes in 64 MB blocks of whole lines, never decoded: a line that did not change has the same bytes in any
encoding. Each block's lines become one Arrow binary array over the block (offsets from the newline positions,
no copy), hashed by DuckDB (`hash()`, 64 bits, on every core). Parquet rows are hashed by DuckDB from the file.
A row counts as unchanged when its hash is among the old delivery's (a collision could hide a change with odds
of about n² / 2^64). In text files a row is a line (the header line included; a quoted value spanning lines
would count as several).

Per feed it reports the rows of both deliveries, the new rows not in the old delivery (changed or added), the
old rows not in the new one (changed or removed), and the seconds spent hashing the new delivery and comparing.
That is the least an ingest that stages only the changed rows of a snapshot would still pay every month: the old
delivery's hashes would be kept from the month before, but every new byte must be read and hashed.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from pipelines.lib.duck import DEFAULT_MEMORY_LIMIT

BLOCK_BYTES = 64 << 20
TEXT_SUFFIXES = (".csv", ".jsonl")


def _blocks(path: Path) -> Iterator[pa.Table]:
    """Yield the file's lines, one Arrow table per block of whole lines (a final line without newline included)."""
    carry = b""
    with path.open("rb") as handle:
        while True:
            block = handle.read(BLOCK_BYTES)
            data = carry + block
            if not data:
                return
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    carry = data
                    continue
                data, carry = data[:cut], data[cut:]
            else:
                carry = b""
                if not data.endswith(b"\n"):
                    data += b"\n"
            ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0x0A)
            offsets = np.concatenate(([0], ends + 1)).astype(np.int64)
            lines = pa.LargeBinaryArray.from_buffers(
                pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
            )
            yield pa.table({"line": lines})
            if not block:
                return


def hash_delivery(con: duckdb.DuckDBPyConnection, folder: Path, table: str) -> int:
    """Hash every row of the delivery in `folder` into the temp table `table` (h UBIGINT); returns the row count."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (h UBIGINT)")
    for path in sorted(p for p in folder.iterdir() if p.name != "_MANIFEST.json"):
        if path.suffix in TEXT_SUFFIXES:
            for lines in _blocks(path):
                con.register("popbase_lines", lines)
                con.execute(f"INSERT INTO {table} SELECT hash(line) FROM popbase_lines")
                con.unregister("popbase_lines")
        elif path.suffix == ".parquet":
            con.execute(f"INSERT INTO {table} SELECT hash(r) FROM read_parquet($path) AS r", {"path": str(path)})
        else:
            raise SystemExit(f"{path}: only CSV, JSON Lines and Parquet snapshots are measured")
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def compare(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(rows of `new_rows` not in `old_rows`, rows of `old_rows` not in `new_rows`), by hash."""
    added = con.execute("SELECT count(*) FROM new_rows ANTI JOIN old_rows USING (h)").fetchone()[0]
    removed = con.execute("SELECT count(*) FROM old_rows ANTI JOIN new_rows USING (h)").fetchone()[0]
    return int(added), int(removed)


def measure(landing: Path, old: str, new: str, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> dict[str, dict]:
    """Per snapshot feed: rows, new rows not in the old delivery, old rows not in the new one, and seconds."""
    con = duckdb.connect(config={"memory_limit": memory_limit, "preserve_insertion_order": False,
                                 "autoinstall_known_extensions": False})
    out: dict[str, dict] = {}
    for feed_dir in sorted(p for p in landing.iterdir() if p.is_dir() and not p.name.startswith("_")):
        manifest = feed_dir / new / "_MANIFEST.json"
        if not manifest.exists() or json.loads(manifest.read_text()).get("kind") != "snapshot":
            continue
        old_rows = hash_delivery(con, feed_dir / old, "old_rows")
        started = time.perf_counter()
        new_rows = hash_delivery(con, feed_dir / new, "new_rows")
        hashed = time.perf_counter()
        added, removed = compare(con)
        done = time.perf_counter()
        out[feed_dir.name] = {
            "old_rows": old_rows, "new_rows": new_rows, "new_not_in_old": added, "old_not_in_new": removed,
            "changed_share": round(added / max(new_rows, 1), 4),
            "bytes": sum(p.stat().st_size for p in (feed_dir / new).iterdir() if p.name != "_MANIFEST.json"),
            "hash_seconds": round(hashed - started, 2), "compare_seconds": round(done - hashed, 2),
        }
        print(f"{feed_dir.name}: {new_rows:,} rows, {added:,} not in the previous delivery "
              f"({added / max(new_rows, 1):.1%}); hashed in {hashed - started:.1f} s, compared in "
              f"{done - hashed:.1f} s", flush=True)
    con.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--landing", type=Path, required=True, help="a landing directory with both deliveries")
    ap.add_argument("--old", required=True, help="the previous delivery date (YYYYMMDD)")
    ap.add_argument("--new", required=True, help="the new delivery date (YYYYMMDD)")
    ap.add_argument("--json", type=Path, help="write the result here")
    args = ap.parse_args()
    result = measure(args.landing, args.old, args.new)
    total = {k: sum(f[k] for f in result.values()) for k in ("new_rows", "new_not_in_old", "bytes")}
    seconds = sum(f["hash_seconds"] + f["compare_seconds"] for f in result.values())
    print(f"all snapshot feeds: {total['new_rows']:,} rows, {total['bytes'] / 1e9:.2f} GB, "
          f"{total['new_not_in_old']:,} not in the previous deliveries; {seconds:.1f} s")
    if args.json:
        args.json.write_text(json.dumps({"landing": str(args.landing), "old": args.old, "new": args.new,
                                         "feeds": result, "seconds": round(seconds, 1), **total}, indent=1))


if __name__ == "__main__":
    main()
