"""Publishing: the full population file and the pseudonymised analyst snapshot, installed atomically.

Both files are built aside in `<warehouse>/.building/` from the working file (attached read-only),
commented from `assets/warehouse.yml`, checkpointed and closed, and only then renamed into place, the
full file first and the analyst file right after. The pipeline never opens a published file, so an
analyst who holds one open never blocks a run, and keeps a consistent view of the old version (its
inode) until they reconnect. The replaced files stay in `<warehouse>/versions/` for rollback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.feeds import registry
from pipelines.lib.dictionary import ColumnSpec, TableSpec, check_classified, comment_text, dictionary
from pipelines.lib.duck import DEFAULT_MEMORY_LIMIT, connect, run_sql, sql_text
from pipelines.lib.pseudonym import (
    PERSON_KEYS,
    analyst_select,
    hmac_params,
    identifier_values_sql,
    key_id,
    keys_table,
    person_key_sql,
    person_values_sql,
    pseudonym_sql,
    quote_ident,
)
from pipelines.lib.pseudonym_store import ALIAS as STORE_ALIAS
from pipelines.lib.pseudonym_store import KeyCounts, attach_store, fill_keys_table, store_path, store_table
from pipelines.lib.quality.masking import mask_error

log = logging.getLogger(__name__)

STORAGE_VERSION = "v1.5.0"  # readable by DuckDB 1.5.x clients
WORK_ALIAS = "popbase_work"
FULL, ANALYST = "population", "analyst"
FILES = (FULL, ANALYST)
# Whatever the umask: the full file (IDs, names, addresses) only for its owner and group, the analyst snapshot
# (de-identified) for any local account (docs/operations.md, "Who can read what").
FILE_MODES = {FULL: 0o640, ANALYST: 0o644}
STATS_FILES = ("stats_population.sql", "stats_actual_composition.sql", "stats_coverage.sql")
HISTORY_TABLE = "population_history"
# The fingerprint (pipelines.lib.pseudonym.key_id, public) of the key the installed analyst file was written
# with. A publish under another key is allowed (a planned rotation) but reported (PublishResult.key_changed,
# logged by the asset): its person_keys do not link to the earlier versions'.
KEY_ID_FILE = ".pseudonym_key_id"
ANALYST_NOTE = ("（分析快照：身份号码已假名化，姓名、地址、原始记录已移除）",
                " (analyst snapshot: IDs pseudonymised; names, addresses and raw records removed)")


class PublishError(RuntimeError):
    """Publishing failed; nothing was replaced. The message names the table or file, never a person."""


@dataclass(frozen=True)
class PublishResult:
    """What a publish produced (no personal data): paths, row counts per table, time and size."""

    population_file: Path
    analyst_file: Path
    row_counts: dict[str, dict[str, int]]
    seconds: float
    bytes: dict[str, int]
    versions: tuple[Path, ...]
    pseudonym_key_id: str
    previous_key_id: str | None  # None: the first publish into this folder (or one before the file existed)
    pseudonyms: dict[str, KeyCounts]  # per pseudonym store table (person_keys, …): taken, computed, removed

    @property
    def key_changed(self) -> bool:
        """True when this publish used another key than the one it replaced: pseudonyms no longer link."""
        return self.previous_key_id is not None and self.previous_key_id != self.pseudonym_key_id


def publish(
    work_db: Path,
    warehouse_dir: Path,
    *,
    pseudonym_key: str,
    reference_date: dt.date,
    keep_versions: int = 3,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    temp_directory: Path | None = None,
) -> PublishResult:
    """Build both published files aside and rename them into place; see the module docstring."""
    started = time.perf_counter()
    params = hmac_params(pseudonym_key)  # fails early on a missing key
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(warehouse_dir / ".publish.lock"):
        building = warehouse_dir / ".building"
        shutil.rmtree(building, ignore_errors=True)  # leftovers of a crashed run; we hold the lock
        building.mkdir()
        built = {name: building / f"{name}.duckdb" for name in FILES}
        run = {
            **params,
            "reference_date": reference_date,
            "published_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            "pseudonym_key_id": key_id(pseudonym_key),
        }
        try:
            try:
                counts, pseudonyms = _build(work_db, built, run, memory_limit=memory_limit,
                                            temp_directory=temp_directory)
            except duckdb.Error as exc:
                # DuckDB messages can quote a value: mask them and drop the chained error.
                raise PublishError(f"building the published files failed: {mask_error(exc)}") from None
            previous_key_id = _installed_key_id(warehouse_dir)
            versions = _install(built, warehouse_dir, keep_versions)
            (warehouse_dir / KEY_ID_FILE).write_text(run["pseudonym_key_id"] + "\n", encoding="ascii")
        finally:
            shutil.rmtree(building, ignore_errors=True)
    finals = {name: warehouse_dir / f"{name}.duckdb" for name in FILES}
    result = PublishResult(
        population_file=finals[FULL],
        analyst_file=finals[ANALYST],
        row_counts=counts,
        seconds=round(time.perf_counter() - started, 3),
        bytes={name: path.stat().st_size for name, path in finals.items()},
        versions=versions,
        pseudonym_key_id=run["pseudonym_key_id"],
        previous_key_id=previous_key_id,
        pseudonyms={store_table(table): done for table, done in pseudonyms.items()},
    )
    log.info("published %s in %.1f s (%s bytes); pseudonyms %s", warehouse_dir, result.seconds, result.bytes,
             result.pseudonyms)
    return result


def key_change_message(result: PublishResult) -> str:
    """What an operator reads when a publish used another pseudonym key than the files it replaced."""
    return (f"the analyst snapshot was pseudonymised with another key than the version it replaced (key id "
            f"{result.previous_key_id} -> {result.pseudonym_key_id}): its person_key and household_key values do "
            "not link to earlier versions. If that was not a planned rotation, publish again with the previous "
            "key (POPBASE_PSEUDONYM_KEY).")


def _installed_key_id(warehouse_dir: Path) -> str | None:
    """The key id recorded by the last publish into this folder, if any."""
    try:
        return (warehouse_dir / KEY_ID_FILE).read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One publish at a time per warehouse directory (an advisory lock, released on exit or crash)."""
    with open(lock_path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise PublishError(f"another publish is running into {lock_path.parent}; try again later") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(
    work_db: Path, built: dict[str, Path], run: dict[str, Any], *, memory_limit: str,
    temp_directory: Path | None,
) -> tuple[dict[str, dict[str, int]], dict[str, KeyCounts]]:
    """Write both files aside; returns row counts per file and table, and what the pseudonym store gave."""
    con = connect(":memory:", memory_limit=memory_limit, temp_directory=temp_directory)
    try:
        try:
            run_sql(con, f"ATTACH $path AS {WORK_ALIAS} (READ_ONLY)", {"path": str(work_db)})
        except duckdb.Error as exc:
            raise PublishError(f"cannot open the working file {work_db} read-only ({exc})") from exc
        specs = dictionary()
        marts = _columns_of(con, WORK_ALIAS, "marts")
        _check_marts(specs, marts)
        for name, path in built.items():
            run_sql(con, f"ATTACH $path AS {name} (STORAGE_VERSION '{STORAGE_VERSION}')", {"path": str(path)})
        attach_store(con, store_path(work_db), run["pseudonym_key_id"])
        pseudonyms = _copy_marts(con, specs, marts, run)
        con.execute(f"DETACH {STORE_ALIAS}")
        con.execute(f"DETACH {WORK_ALIAS}")
        for name in FILES:
            con.execute(f"USE {name}")
            _write_statistics(con, name, run)
            _write_comments(con, name, specs)
        con.execute("USE memory")
        counts = {name: _row_counts(con, name) for name in FILES}
        for name in FILES:
            con.execute(f"CHECKPOINT {name}")
            con.execute(f"DETACH {name}")
        return counts, pseudonyms
    finally:
        con.close()


def _columns_of(con: duckdb.DuckDBPyConnection, database: str, schema: str) -> dict[str, list[str]]:
    """Table or view name → column names in order, for one schema of one attached database."""
    rows = con.execute(
        "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
        "WHERE database_name = $db AND schema_name = $schema GROUP BY table_name",
        {"db": database, "schema": schema},
    ).fetchall()
    return {table: list(columns) for table, columns in rows}


def _check_marts(specs: dict[str, TableSpec], marts: dict[str, list[str]]) -> None:
    if "population_base" not in marts:
        raise PublishError("the working file has no marts.population_base; run the marts first")
    clashes = [t for t in marts if t in specs and specs[t].source != "marts"]
    if clashes:
        raise PublishError(f"marts tables {clashes} clash with tables the publish step builds")
    check_classified(specs, marts)


def _copy_marts(
    con: duckdb.DuckDBPyConnection, specs: dict[str, TableSpec], marts: dict[str, list[str]],
    run: dict[str, Any],
) -> dict[str, KeyCounts]:
    """Every marts table (or view, materialised) into both files; the analyst copy de-identified. Returns
    what the pseudonym store gave per keys table."""
    pseudonyms = {PERSON_KEYS: fill_keys_table(
        con, PERSON_KEYS, person_values_sql(f"{WORK_ALIAS}.marts.population_base"), person_key_sql, run)}
    identifiers: dict[str, tuple[ColumnSpec, list[str]]] = {}
    for table, columns in sorted(marts.items()):
        for column in columns:
            spec = specs[table].columns[column]
            if spec.kind == "identifier":
                identifiers.setdefault(spec.name, (spec, []))[1].append(f"{WORK_ALIAS}.marts.{quote_ident(table)}")
    for spec, sources in identifiers.values():
        table = str(keys_table(spec))
        pseudonyms[table] = fill_keys_table(con, table, identifier_values_sql(spec, sources),
                                            lambda column, spec=spec: pseudonym_sql(spec, column), run)
    for table, columns in sorted(marts.items()):
        source = f"{WORK_ALIAS}.marts.{quote_ident(table)}"
        run_sql(con, f"CREATE TABLE {FULL}.main.{quote_ident(table)} AS SELECT * FROM {source}")
        select, joins = analyst_select(columns, specs[table].columns, "src")
        run_sql(con, f"CREATE TABLE {ANALYST}.main.{quote_ident(table)} AS SELECT {select} "
                      f"FROM {source} AS src {joins}", run)
    for temp_table in pseudonyms:
        con.execute(f"DROP TABLE {temp_table}")
    return pseudonyms


def _write_statistics(con: duckdb.DuckDBPyConnection, name: str, run: dict[str, Any]) -> None:
    """Reference tables, statistics marts, the point-in-time macro and the dictionary view (after USE)."""
    counties = registry().code_lists["wenzhou_county"]
    run_sql(con, sql_text("publish/county.sql"),
             {"county_codes": list(counties), "county_names": list(counties.values())})
    run_sql(con, sql_text("publish/publication.sql"), {**run, "file_kind": "full" if name == FULL else name})
    has_history = HISTORY_TABLE in _columns_of(con, name, "main")
    if name == FULL:
        for sql_file in STATS_FILES:
            run_sql(con, sql_text(f"publish/{sql_file}"))
        if has_history:
            run_sql(con, sql_text("publish/stats_change.sql"))
    else:
        # aggregates without personal data, the same in both files: computed once, in the full file
        for table in [t for t in _columns_of(con, FULL, "main") if t.startswith("stats_")]:
            run_sql(con, f"CREATE TABLE {quote_ident(table)} AS SELECT * FROM {FULL}.main.{quote_ident(table)}")
    if has_history:
        run_sql(con, sql_text("publish/population_as_of.sql"))
    else:
        log.warning("no %s table: stats_change and population_as_of are not published", HISTORY_TABLE)
    run_sql(con, sql_text("publish/data_dictionary.sql"))


def _literal(text: str) -> str:
    """A SQL string literal (COMMENT ON takes no parameters; the text comes from warehouse.yml)."""
    return "'" + text.replace("'", "''") + "'"


def _write_comments(con: duckdb.DuckDBPyConnection, name: str, specs: dict[str, TableSpec]) -> None:
    """COMMENT ON every table, view and column of one file; fails on anything warehouse.yml lacks."""
    objects = _columns_of(con, name, "main")
    views = {r[0] for r in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE database_name = $db AND NOT internal", {"db": name}
    ).fetchall()}
    for table, columns in sorted(objects.items()):
        spec = specs.get(table)
        if spec is None:
            raise PublishError(f"{name}: table {table!r} is not in assets/warehouse.yml")
        labels = {c.name: (c.zh, c.en) for c in spec.columns.values()}
        zh, en = spec.zh, spec.en
        if name == ANALYST and spec.source == "marts":
            labels = {c.analyst_name: c.analyst_labels for c in spec.columns.values() if not c.removed}
            zh, en = zh + ANALYST_NOTE[0], en + ANALYST_NOTE[1]
        kind = "VIEW" if table in views else "TABLE"
        con.execute(f"COMMENT ON {kind} {quote_ident(table)} IS {_literal(comment_text(zh, en))}")
        for column in columns:
            if column not in labels:
                raise PublishError(f"{name}: column {table}.{column} has no entry in assets/warehouse.yml")
            text = comment_text(*labels[column])
            con.execute(f"COMMENT ON COLUMN {quote_ident(table)}.{quote_ident(column)} IS {_literal(text)}")


def _row_counts(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, int]:
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = $db ORDER BY table_name", {"db": name}
    ).fetchall()]
    counts: dict[str, int] = {}
    for table in tables:
        row = con.execute(f"SELECT count(*) FROM {name}.main.{quote_ident(table)}").fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def _install(built: dict[str, Path], warehouse_dir: Path, keep_versions: int) -> tuple[Path, ...]:
    """Archive the current files, rename the new ones into place (both or neither), prune old versions."""
    versions_dir = warehouse_dir / "versions"
    versions_dir.mkdir(exist_ok=True)
    finals = {name: warehouse_dir / f"{name}.duckdb" for name in FILES}
    # Both files of one publish are archived under one timestamp (when the full file was written), so a
    # rollback restores a matching pair.
    stamp = next((dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC) for p in finals.values() if p.exists()), None)
    archived = {name: _archive(path, versions_dir, name, stamp) for name, path in finals.items() if path.exists()}
    installed: list[str] = []
    for name in FILES:
        os.chmod(built[name], FILE_MODES[name])
    try:
        for name in FILES:
            os.replace(built[name], finals[name])
            installed.append(name)
    except OSError as exc:
        for name in installed:
            if name in archived:
                _restore(archived[name], finals[name])
        raise PublishError(f"could not rename the new files into {warehouse_dir}: {exc}") from exc
    return _prune(versions_dir, keep_versions)


def _archive(current: Path, versions_dir: Path, name: str, stamp: dt.datetime) -> Path:
    """Keep the file being replaced as versions/<name>.<UTC time the pair was written>.duckdb (a hard link)."""
    target = versions_dir / f"{name}.{stamp:%Y%m%dT%H%M%S.%fZ}.duckdb"
    if not target.exists():
        try:
            os.link(current, target)
        except OSError:
            shutil.copy2(current, target)
    return target


def _restore(archived: Path, final: Path) -> None:
    """Put an archived version back in place (used when the second rename fails)."""
    temporary = final.with_name(final.name + ".restore")
    with contextlib.suppress(FileExistsError):
        os.link(archived, temporary)
    os.replace(temporary, final)


def _prune(versions_dir: Path, keep_versions: int) -> tuple[Path, ...]:
    """Delete all but the newest `keep_versions` archived versions of each file; returns those kept."""
    kept: list[Path] = []
    for name in FILES:
        archived = sorted(versions_dir.glob(f"{name}.*.duckdb"), reverse=True)
        for old in archived[keep_versions:]:
            old.unlink()
        kept.extend(archived[:keep_versions])
    return tuple(sorted(kept))
