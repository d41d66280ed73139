"""The minimal DuckDB script: the pandas baseline's result in one DuckDB script, for the benchmark.

    .venv/bin/python benchmarks/duckdb_minimal.py --landing var/bench/gen_p1000000_m2_s1 --date 20260831 \
        --out var/bench/minimal_persons.parquet [--memory-limit 4.5GB] [--json var/bench/minimal.json]

The issue's reference point ("a minimal single-script DuckDB version of the job: decode, normalise and check
IDs, aggregate each feed per person, join, write"), computed the same way as benchmarks/pandas_baseline.py and
giving the same rows: the same files, the same ID rules (full-width digits, x -> X, spaces/hyphens/quotes
stripped, 15 -> 18 digits, birth date and check character), the same per-feed aggregates and the same merge.
GB18030 is decoded in Python (DuckDB's `encodings` extension is a download), streamed into a UTF-8 file in the
output's folder; everything else is read by DuckDB's own readers, skipping rows they cannot parse. No
quarantine, no history, no checks, no publishing.

Prints and (with --json) writes the time per phase; the caller measures peak RSS from outside.
"""

from __future__ import annotations

import argparse
import codecs
import datetime as dt
import json
import time
from pathlib import Path

import duckdb
from phases import Phases, delivery_files

from pipelines.lib.duck import DEFAULT_MEMORY_LIMIT, used_params

BLOCK = 64 * 2**20
ID_TYPE = "居民身份证"

SQL = Path(__file__).with_suffix(".sql")


def steps(path: Path = SQL) -> dict[str, str]:
    """The `-- step: <name>` sections of the SQL file, in order."""
    out: dict[str, str] = {}
    name = None
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("-- step: "):
            name = line.removeprefix("-- step: ").strip()
            out[name] = ""
        elif name is not None:
            out[name] += line
    return out


def files(landing: Path, feed: str, date: str, suffix: str) -> list[str]:
    """The delivery's data files as text (DuckDB's readers take a list of paths as a parameter)."""
    return [str(p) for p in delivery_files(landing, feed, date, suffix)]


def transcode(sources: list[str], target: Path) -> None:
    """GB18030 files into one UTF-8 file (header once), streamed in blocks; bad bytes become U+FFFD."""
    with target.open("wb") as out:
        for i, source in enumerate(sources):
            decoder = codecs.getincrementaldecoder("gb18030")(errors="replace")
            with open(source, "rb") as fh:
                first = True
                while block := fh.read(BLOCK):
                    text = decoder.decode(block)
                    if first and i > 0:
                        text = text.split("\n", 1)[1] if "\n" in text else ""
                    first = False
                    out.write(text.encode("utf-8"))
                out.write(decoder.decode(b"", final=True).encode("utf-8"))


def read_csv_table(con: duckdb.DuckDBPyConnection, name: str, paths: list[str]) -> None:
    """Every field as text, rows that do not parse skipped (the pandas baseline's on_bad_lines='skip'). Columns
    are matched by name across a delivery's files: a row with an extra field in one file's sample makes DuckDB
    detect an extra column for that file only."""
    con.execute(
        f"create or replace temp table {name} as select *, row_number() over () as rn from read_csv($paths, "
        "all_varchar = true, header = true, ignore_errors = true, strict_mode = false, "
        "null_padding = true, union_by_name = true, encoding = 'utf-8', quote = '\"', escape = '\"')",
        {"paths": paths},
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--landing", type=Path, required=True)
    ap.add_argument("--date", required=True, help="delivery folder name, YYYYMMDD")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT, help="DuckDB memory_limit; 'none' for 80%% of RAM")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: all cores)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    landing, date = args.landing, args.date
    args.out.parent.mkdir(parents=True, exist_ok=True)
    spill = args.out.parent / "minimal_spill"
    con = duckdb.connect(":memory:", config={"temp_directory": str(spill), "preserve_insertion_order": True})
    if args.memory_limit != "none":
        con.execute("set memory_limit = $m", {"m": args.memory_limit})
    if args.threads:
        con.execute(f"set threads = {int(args.threads)}")
    sql_steps = steps()
    con.execute(sql_steps.pop("macros"))
    merge = sql_steps.pop("base")
    phases = Phases()
    lap = phases.lap

    utf8_hukou = args.out.parent / "minimal_hukou_utf8.csv"
    transcode(files(landing, "hukou", date, ".csv"), utf8_hukou)
    lap("decode")
    read_csv_table(con, "hukou_raw", [str(utf8_hukou)])
    read_csv_table(con, "residence_raw", files(landing, "residence_permit", date, ".csv"))
    read_csv_table(con, "education_raw", files(landing, "education", date, ".csv"))
    read_csv_table(con, "tax_raw", files(landing, "tax", date, ".csv"))
    read_csv_table(con, "marriage_raw", files(landing, "marriage", date, ".csv"))
    con.execute(
        "create or replace temp table insurance_raw as select *, row_number() over () as rn from read_json("
        "$paths, format = 'newline_delimited', ignore_errors = true, columns = {aac002: 'VARCHAR', "
        "aae140: 'VARCHAR', aac008: 'VARCHAR', aae041: 'VARCHAR', aae202: 'VARCHAR', aae116: 'VARCHAR'})",
        {"paths": files(landing, "social_insurance", date, ".jsonl")},
    )
    con.execute("create or replace temp table property_raw as select *, row_number() over () as rn "
                "from read_parquet($paths)", {"paths": files(landing, "property", date, ".parquet")})
    utf8_hukou.unlink()
    rows_in = sum(con.execute(f"select count(*) from {table}").fetchone()[0] for table in (
        "hukou_raw", "residence_raw", "education_raw", "insurance_raw", "tax_raw", "marriage_raw", "property_raw"))
    lap("read")
    ref = dt.datetime.strptime(date, "%Y%m%d")
    for name, sql in sql_steps.items():
        params = used_params(sql, {"ref": ref, "id_type": ID_TYPE})
        started = time.perf_counter()
        con.execute(sql, params)
        print(f"  ({name}: {time.perf_counter() - started:.1f} s)", flush=True)
    lap("aggregate")
    con.execute(merge)
    lap("merge")
    con.execute("copy base to $out (format parquet)", {"out": str(args.out)})
    lap("write")
    persons, in_hukou = con.execute("select count(*), count(*) filter (where in_hukou) from base").fetchone()
    res = {"phases": phases.seconds, "rows_in": rows_in, "persons_out": persons, "in_hukou": in_hukou,
           "out_mb": round(args.out.stat().st_size / 2**20, 1), "memory_limit": args.memory_limit}
    print(json.dumps(res), flush=True)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
