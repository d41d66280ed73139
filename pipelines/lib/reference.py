"""Reference data for staging: GB/T 2260 address codes and the registry's code lists, in DuckDB and Python.

`ref.regions(code, name, names, province, level, first_year, last_year)` comes from
`assets/reference/regions.csv` (built by `scripts/build_regions.py` from python-stdnum's cn/loc.dat);
`ref.code_lists(list_name, code, label)` from the registry's `code_lists`.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import duckdb

from pipelines.feeds import PROJECT_ROOT, Registry, registry

REGIONS_CSV = PROJECT_ROOT / "assets" / "reference" / "regions.csv"

_REGIONS_DDL = """
CREATE SCHEMA IF NOT EXISTS ref;
CREATE OR REPLACE TABLE ref.regions (
    code VARCHAR PRIMARY KEY, name VARCHAR, names VARCHAR, province VARCHAR, level VARCHAR,
    first_year INTEGER, last_year INTEGER
);
CREATE OR REPLACE TABLE ref.code_lists (
    list_name VARCHAR NOT NULL, code VARCHAR NOT NULL, label VARCHAR, PRIMARY KEY (list_name, code)
);
"""
_REGIONS_LOAD = """
INSERT INTO ref.regions
SELECT code, name, names, province, level, first_year, last_year
FROM read_csv($path, header = true, all_varchar = false, columns = {
    'code': 'VARCHAR', 'name': 'VARCHAR', 'names': 'VARCHAR', 'province': 'VARCHAR', 'level': 'VARCHAR',
    'first_year': 'INTEGER', 'last_year': 'INTEGER'
});
"""


def load_reference_tables(
    con: duckdb.DuckDBPyConnection, reg: Registry | None = None, regions_csv: Path = REGIONS_CSV
) -> None:
    """(Re)create ref.regions and ref.code_lists; idempotent."""
    reg = reg or registry()
    con.execute(_REGIONS_DDL)
    con.execute(_REGIONS_LOAD, {"path": str(regions_csv)})
    rows = [(name, code, label) for name, codes in reg.code_lists.items() for code, label in codes.items()]
    con.executemany("INSERT INTO ref.code_lists VALUES (?, ?, ?)", rows)


@cache
def region_last_years(regions_csv: Path = REGIONS_CSV) -> dict[str, int | None]:
    """Address code -> the last year it was in use (None = still current), for the Python reference."""
    with regions_csv.open(encoding="utf-8", newline="") as fh:
        return {r["code"]: int(r["last_year"]) if r["last_year"] else None for r in csv.DictReader(fh)}
