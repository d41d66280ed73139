"""Re-delivered data: a delivery whose files hold exactly the data of a loaded one is copied, not parsed.

Departments re-send a snapshot unchanged (nothing changed that month, or a delivery sent again under a new
date). Its files are then byte-identical to an earlier delivery's, possibly under other names. Parsing
them again would give the same raw rows: so, once the checksums are verified against the manifest, the
earlier delivery's raw rows and ROW_MALFORMED quarantine rows are copied under the new delivery id and file
names inside DuckDB (no decoding), and staging copies its staged rows too (pipelines/lib/staging_copy.py).

"Exactly the data" is `data_hash`: the manifest's (sha256, rows) per file, in order. A copy is taken only from a
delivery loaded by the same code and rules (`code_fingerprint`), whose raw rows retention has not pruned;
otherwise the files are parsed as always.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import duckdb
import pyarrow

from pipelines.feeds import Feed
from pipelines.lib.duck import sql_text
from pipelines.lib.fingerprint import files_digest
from pipelines.lib.ingest.manifest import Manifest
from pipelines.lib.ingest.models import DeliveryCandidate, FileResult
from pipelines.lib.ingest.schema import loading_quarantine_table, raw_table

# What decides a delivery's raw and staged rows besides its files: readers, staging SQL and macros, rules
# and reference data. A change to any of them makes the next delivery parse again.
CODE_GLOBS = (
    "pipelines/feeds.py",
    "pipelines/lib/ingest/*.py",
    "pipelines/lib/staging*.py",
    "pipelines/lib/reference.py",
    "pipelines/lib/citizen_id.py",
    "assets/feeds.yml",
    "assets/macros/*.sql",
    "assets/reference/*.csv",
)


@dataclass(frozen=True)
class Source:
    """The loaded delivery whose rows a re-delivery copies."""

    delivery_id: str
    files: tuple[str, ...]


def data_hash(manifest: Manifest) -> str:
    """sha256 over the (sha256, rows) of each file in manifest order: equal for the same data under any name or date."""
    pairs = [[f.sha256, f.rows] for f in manifest.files]
    return hashlib.sha256(json.dumps(pairs, separators=(",", ":")).encode("ascii")).hexdigest()


def code_digest() -> str:
    """Fingerprint of the loading and staging code, macros, registry and reference data (all feeds)."""
    return files_digest(CODE_GLOBS, f"duckdb {duckdb.__version__} pyarrow {pyarrow.__version__}")


def code_fingerprint(feed: Feed) -> str:
    """Fingerprint of everything besides the files that decides a delivery's raw and staged rows."""
    return hashlib.sha256((code_digest() + feed.model_dump_json()).encode("utf-8")).hexdigest()


def find_source(con: duckdb.DuckDBPyConnection, feed: Feed, delivery_id: str, data: str) -> Source | None:
    """The newest loaded delivery of `feed` with the same data, loaded by this code, all its raw rows kept."""
    rows = con.execute(sql_text("ingest/reuse_source.sql"), {
        "feed": feed.name, "delivery_id": delivery_id, "data_hash": data,
        "code_fingerprint": code_fingerprint(feed),
    }).fetchall()
    if not rows:
        return None
    source, files, raw_rows = rows[0]
    if count_rows(con, raw_table(feed), source) != raw_rows:
        return None  # some raw rows are gone (event retention deletes old periods)
    return Source(source, tuple(files))


def count_rows(con: duckdb.DuckDBPyConnection, table: str, delivery_id: str) -> int:
    """Rows of one delivery in a raw or staging table."""
    ((found,),) = con.execute(f"SELECT count(*) FROM {table} WHERE delivery_id = $d", {"d": delivery_id}).fetchall()
    return int(found)


def copy_rows_sql(table: str, target: str | None = None, *, replace: dict[str, str] | None = None,
                  where: str = "") -> str:
    """INSERT of the source delivery's rows of `table` under the new delivery id and file names.

    Parameters: $source_id, $delivery_id, and $source_files and $files (both deliveries' file names in manifest
    order, position for position); `replace` adds column → SQL expression (for example the delivery date)."""
    columns = {"delivery_id": "$delivery_id",
               "source_file": "$files[list_position($source_files, source_file)]", **(replace or {})}
    replaced = ", ".join(f"{expr} AS {column}" for column, expr in columns.items())
    return (f"INSERT INTO {target or table} BY NAME SELECT * REPLACE ({replaced}) "
            f"FROM {table} WHERE delivery_id = $source_id{where}")


def copy_raw(con: duckdb.DuckDBPyConnection, feed: Feed, cand: DeliveryCandidate, manifest: Manifest,
             source: Source) -> list[FileResult]:
    """Copy the source's raw rows and ROW_MALFORMED rows (into the loading quarantine table); per-file counts.

    Raw rows count only once the ledger holds the delivery as loaded, as when parsing."""
    values = {"source_id": source.delivery_id, "delivery_id": cand.delivery_id,
              "source_files": list(source.files), "files": [f.name for f in manifest.files]}
    con.execute(copy_rows_sql(raw_table(feed)), values)
    con.execute(copy_rows_sql("ops.quarantine", loading_quarantine_table(feed),
                              replace={"delivery_date": "$delivery_date"},
                              where=" AND reason_code = 'ROW_MALFORMED'"),
                {**values, "delivery_date": cand.delivery_date})
    malformed = dict(con.execute(
        f"SELECT source_file, count(*) FROM {loading_quarantine_table(feed)} GROUP BY source_file").fetchall())
    return [FileResult(f.name, f.rows, malformed.get(f.name, 0), (cand.path / f.name).stat().st_size)
            for f in manifest.files]
