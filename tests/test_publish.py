"""The publishing layer: atomic install, versions, pseudonyms, de-identification, comments, statistics."""

from __future__ import annotations

import hashlib
import hmac
import re
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import publish as publish_module
from pipelines.lib.dictionary import DictionaryError, dictionary
from pipelines.lib.pseudonym import hmac_params, hmac_sql, keyed_uuid_sql, person_key
from pipelines.lib.publish import PublishError, publish
from tests.mart_fixtures import REFERENCE_DATE, build_marts

KEY = "test-key-0123456789abcdef-0123456789"
PROJECT = Path(__file__).resolve().parent.parent
OLD_CLI = PROJECT / ".venv" / "bin" / "duckdb"
GUIDE = PROJECT / "docs" / "analyst-guide.md"


def _publish(work: Path, warehouse: Path, **kwargs: object) -> publish_module.PublishResult:
    return publish(work, warehouse, pseudonym_key=kwargs.pop("key", KEY), reference_date=REFERENCE_DATE,
                   **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> publish_module.PublishResult:
    root = tmp_path_factory.mktemp("pub")
    return _publish(build_marts(root / "work.duckdb"), root / "warehouse")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ro(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


# --- pseudonyms ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "key", [KEY, "k" * 64, "a much longer key than one sha-256 block " * 3, "足够长的中文密钥用于测试十六个字符以上"]
)
def test_hmac_in_sql_equals_python_hmac(key: str) -> None:
    ids = ["11010519491231002X", "330302199001011234", " 33030219900101123x "]
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT m, {hmac_sql('upper(trim(m))')}, {keyed_uuid_sql('upper(trim(m))')} FROM unnest($ids) AS t(m)",
        {**hmac_params(key), "ids": ids},
    ).fetchall()
    for message, digest, pseudonym in rows:
        expected = hmac.new(key.encode(), message.strip().upper().encode(), hashlib.sha256).hexdigest()
        assert digest == expected
        # the pseudonym is the HMAC's first 128 bits, as a UUID
        assert pseudonym == uuid.UUID(expected[:32]) == person_key(key, message)


def test_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="POPBASE_PSEUDONYM_KEY"):
        hmac_params("short")


def test_person_key_is_stable_per_key_and_joins_work(published: publish_module.PublishResult,
                                                     tmp_path: Path) -> None:
    with _ro(published.population_file) as full, _ro(published.analyst_file) as analyst:
        ids = [r[0] for r in full.execute("SELECT citizen_id FROM population_base").fetchall()]
        keys = {r[0] for r in analyst.execute("SELECT person_key FROM population_base").fetchall()}
        assert keys == {person_key(KEY, i) for i in ids}
        orphans = analyst.execute("""
            SELECT count(*) FROM person_relations r
            LEFT JOIN population_base p ON p.person_key = r.related_person_key
            WHERE p.person_key IS NULL""").fetchone()
        spouses = analyst.execute("""
            SELECT count(*) FROM population_base a JOIN population_base b ON a.spouse_person_key = b.person_key
            """).fetchone()
        expected_spouses = full.execute(
            "SELECT count(*) FROM population_base WHERE spouse_citizen_id IS NOT NULL").fetchone()
        households = analyst.execute("""
            SELECT count(*) FROM households h JOIN population_base p USING (person_key, household_key)
            """).fetchone()
        assert orphans == (0,) and spouses == expected_spouses and households[0] > 0
    other_key = "another-key-fedcba9876543210-fedcba98"
    other = _publish(build_marts(tmp_path / "work.duckdb"), tmp_path / "wh", key=other_key)
    with _ro(other.analyst_file) as con:
        other_keys = {r[0] for r in con.execute("SELECT person_key FROM population_base").fetchall()}
    assert not other_keys & keys


def test_every_pseudonymised_id_equals_the_python_hmac_also_for_ids_outside_the_base(tmp_path: Path) -> None:
    """IDs are looked up in a per-person key table built from population_base; an ID that is not there
    (here a relation to someone outside the base, in lower case with a blank) is hashed directly, the same way."""
    work = build_marts(tmp_path / "work.duckdb")
    outsider = " 11010519491231002x"
    with duckdb.connect(str(work)) as con:
        con.execute("INSERT INTO marts.person_relations SELECT citizen_id, $outsider, relation, source "
                    "FROM marts.person_relations LIMIT 1", {"outsider": outsider})
    result = _publish(work, tmp_path / "warehouse")
    specs = dictionary()
    checked = 0
    with _ro(result.population_file) as full, _ro(result.analyst_file) as analyst:
        for table, spec in specs.items():
            for column in (c for c in spec.columns.values() if c.kind == "citizen_id"):
                ids = [r[0] for r in full.execute(
                    f'SELECT "{column.name}" FROM "{table}" WHERE "{column.name}" IS NOT NULL').fetchall()]
                keys = [r[0] for r in analyst.execute(
                    f'SELECT "{column.analyst_name}" FROM "{table}" WHERE "{column.analyst_name}" IS NOT NULL'
                ).fetchall()]
                assert sorted(keys) == sorted(person_key(KEY, i) for i in ids), (table, column.name)
                checked += len(ids)
        assert person_key(KEY, outsider) in {r[0] for r in analyst.execute(
            "SELECT related_person_key FROM person_relations").fetchall()}
    assert checked > 100



def test_household_keys_equal_the_python_hmac_of_the_domain_and_value(published: publish_module.PublishResult) -> None:
    """Household keys are computed once per household number, from `household_no:<trimmed value>`."""
    def oracle(value: str) -> uuid.UUID:
        message = f"household_no:{value.strip()}".encode()
        return uuid.UUID(hmac.new(KEY.encode(), message, hashlib.sha256).hexdigest()[:32])

    with _ro(published.population_file) as full, _ro(published.analyst_file) as analyst:
        for table in ("households", "population_base"):
            numbers = [r[0] for r in full.execute(
                f"SELECT household_no FROM {table} WHERE household_no IS NOT NULL").fetchall()]
            keys = [r[0] for r in analyst.execute(
                f"SELECT household_key FROM {table} WHERE household_key IS NOT NULL").fetchall()]
            assert numbers and sorted(keys) == sorted(oracle(n) for n in numbers), table


# --- de-identification --------------------------------------------------------------------------

def test_analyst_snapshot_holds_no_id_name_address_or_household_number(
    published: publish_module.PublishResult,
) -> None:
    con = duckdb.connect()
    con.execute("ATTACH $p AS full_db (READ_ONLY)", {"p": str(published.population_file)})
    con.execute("ATTACH $p AS analyst_db (READ_ONLY)", {"p": str(published.analyst_file)})
    con.execute("""
        CREATE TEMP TABLE needles AS
        SELECT DISTINCT needle FROM full_db.population_base,
            unnest([citizen_id, left(citizen_id, 17), name, household_no, hukou_address]) AS t(needle)
        WHERE needle IS NOT NULL""")
    text_columns = con.execute("""
        SELECT table_name, column_name FROM duckdb_columns()
        WHERE database_name = 'analyst_db' AND (data_type LIKE 'VARCHAR%' OR data_type LIKE '%[]')
        """).fetchall()
    assert len(text_columns) > 20
    hits = {}
    for table, column in text_columns:
        found = con.execute(
            f'SELECT count(*) FROM analyst_db."{table}" AS t, needles '
            f'WHERE contains(CAST(t."{column}" AS VARCHAR), needles.needle)').fetchone()
        if found and found[0]:
            hits[f"{table}.{column}"] = found[0]
    assert hits == {}
    names = {r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = 'analyst_db'").fetchall()}
    assert not names & {"citizen_id", "name", "birth_date", "death_date", "hukou_address", "household_no",
                        "raw_record", "offending_value", "detail", "spouse_citizen_id"}
    assert {"person_key", "birth_year_month", "household_key", "related_person_key"} <= names


def test_the_full_file_is_not_readable_by_other_accounts(published: publish_module.PublishResult) -> None:
    assert stat.S_IMODE(published.population_file.stat().st_mode) == 0o640
    assert stat.S_IMODE(published.analyst_file.stat().st_mode) == 0o644


def test_key_is_written_nowhere(published: publish_module.PublishResult) -> None:
    pads = hmac_params(KEY)
    for path in (published.population_file, published.analyst_file):
        data = path.read_bytes()
        assert KEY.encode() not in data
        assert pads["hmac_ipad"] not in data and pads["hmac_opad"] not in data


# --- atomic publishing --------------------------------------------------------------------------

READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("SELECT count(*) FROM population_base").fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute("SELECT count(*) FROM population_base").fetchone()[0], flush=True)
"""


def test_reader_holding_the_old_file_keeps_it_and_never_blocks_a_run(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    _publish(build_marts(tmp_path / "work1.duckdb", persons=40), warehouse)
    bigger = build_marts(tmp_path / "work2.duckdb", persons=70)
    target = warehouse / "analyst.duckdb"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(target)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None and reader.stdin is not None
        before = int(reader.stdout.readline())
        result = _publish(bigger, warehouse)  # the reader holds the old file open read-only
        reader.stdin.write("\n")
        reader.stdin.flush()
        during = int(reader.stdout.readline())
    finally:
        reader.wait(timeout=30)
    with _ro(target) as con:
        after = con.execute("SELECT count(*) FROM population_base").fetchone()[0]
    assert before == during == 40
    assert after == result.row_counts["analyst"]["population_base"] == 70
    assert reader.returncode == 0


def _snapshot(warehouse: Path) -> dict[str, str]:
    return {p.name: _digest(p) for p in sorted(warehouse.glob("*.duckdb"))}


def test_unclassified_column_fails_and_publishes_nothing(tmp_path: Path) -> None:
    work, warehouse = build_marts(tmp_path / "work.duckdb"), tmp_path / "wh"
    _publish(work, warehouse)
    before = _snapshot(warehouse)
    with duckdb.connect(str(work)) as con:
        con.execute("ALTER TABLE marts.population_base ADD COLUMN nickname VARCHAR DEFAULT '小名'")
    with pytest.raises(DictionaryError, match=r"population_base\.nickname"):
        _publish(work, warehouse)
    assert _snapshot(warehouse) == before
    assert not (warehouse / ".building").exists()


def test_failure_after_the_full_file_is_built_replaces_neither(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    work, warehouse = build_marts(tmp_path / "work.duckdb"), tmp_path / "wh"
    _publish(work, warehouse)
    before = _snapshot(warehouse)
    real = publish_module._write_statistics

    def failing(con: duckdb.DuckDBPyConnection, name: str, run: dict) -> None:
        if name == publish_module.ANALYST:
            con.execute("SELECT * FROM no_such_table")  # a bad table, mid-build
        real(con, name, run)

    monkeypatch.setattr(publish_module, "_write_statistics", failing)
    with pytest.raises(PublishError, match="no_such_table") as caught:
        _publish(work, warehouse)
    assert not re.search(r"\d{17}[\dX]", str(caught.value))
    assert _snapshot(warehouse) == before
    assert not (warehouse / ".building").exists()


def test_versions_kept_for_rollback(tmp_path: Path) -> None:
    work, warehouse = build_marts(tmp_path / "work.duckdb"), tmp_path / "wh"
    for _ in range(5):
        result = _publish(work, warehouse, keep_versions=2)
    kept = sorted(p.name for p in (warehouse / "versions").iterdir())
    assert len(kept) == 4 and len(result.versions) == 4
    assert sum(name.startswith("population.") for name in kept) == 2
    assert all(re.fullmatch(r"(population|analyst)\.\d{8}T\d{6}\.\d{6}Z\.duckdb", n) for n in kept)
    stamps = {kind: {n.split(".", 1)[1] for n in kept if n.startswith(kind)} for kind in ("population", "analyst")}
    assert stamps["population"] == stamps["analyst"], "the two files of one publish share a timestamp"
    with _ro(warehouse / "versions" / kept[0]) as con:  # an archived version is a whole database
        assert con.execute("SELECT count(*) FROM population_base").fetchone()[0] == 40


def test_a_publish_under_another_key_is_reported(tmp_path: Path) -> None:
    """A new key breaks the linkage of person_key across versions: allowed (a rotation), but said, never the key."""
    work, warehouse = build_marts(tmp_path / "work.duckdb", persons=20), tmp_path / "wh"
    first = _publish(work, warehouse)
    again = _publish(work, warehouse)
    assert first.previous_key_id is None and not first.key_changed and not again.key_changed
    other_key = "another-key-0123456789abcdef-0123456789"
    rotated = _publish(work, warehouse, key=other_key)
    assert rotated.key_changed and rotated.previous_key_id == first.pseudonym_key_id
    with _ro(rotated.analyst_file) as con:
        assert con.execute("select pseudonym_key_id from publication").fetchone()[0] == rotated.pseudonym_key_id
    message = publish_module.key_change_message(rotated)
    assert "do not link to earlier versions" in message
    assert first.pseudonym_key_id in message and rotated.pseudonym_key_id in message
    assert KEY not in message and other_key not in message


# --- compatibility, dictionary, statistics ------------------------------------------------------

@pytest.mark.skipif(not OLD_CLI.exists(), reason="the DuckDB 1.x CLI is not installed in .venv/bin")
def test_duckdb_1_5_cli_opens_both_files_read_only(published: publish_module.PublishResult) -> None:
    version = subprocess.run([str(OLD_CLI), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v1.")
    for path in (published.population_file, published.analyst_file):
        out = subprocess.run(
            [str(OLD_CLI), "-readonly", "-csv", str(path), "-c",
             "SELECT count(*) AS n FROM population_base; "
             "SELECT count(*) AS m FROM population_as_of(DATE '2024-12-15');"
             "SELECT count(*) AS d FROM data_dictionary WHERE comment IS NULL;"],
            capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        with _ro(path) as con:
            as_of = con.execute("SELECT count(*) FROM population_as_of(DATE '2024-12-15')").fetchone()[0]
        assert out.stdout.split() == ["n", "40", "m", str(as_of), "d", "0"]


def test_every_table_view_and_column_has_a_bilingual_comment(published: publish_module.PublishResult) -> None:
    for path in (published.population_file, published.analyst_file):
        with _ro(path) as con:
            missing = con.execute("""
                SELECT table_name, column_name FROM data_dictionary
                WHERE comment IS NULL OR comment NOT LIKE '% | %'""").fetchall()
            counted = con.execute("SELECT count(*) FROM data_dictionary").fetchone()[0]
            tables = con.execute("SELECT count(*) FROM duckdb_tables() WHERE comment IS NULL").fetchone()
        assert missing == [] and counted > 100 and tables == (0,)


def test_statistics_agree_between_files_and_with_the_base(published: publish_module.PublishResult) -> None:
    stats = ["stats_population", "stats_actual_composition", "stats_coverage", "stats_change"]
    with _ro(published.population_file) as full, _ro(published.analyst_file) as analyst:
        for table in stats:
            query = f"SELECT * FROM {table} ORDER BY ALL"
            assert full.execute(query).fetchall() == analyst.execute(query).fetchall(), table
        actual = full.execute("SELECT count(*) FROM population_base WHERE is_actual_resident").fetchone()
        assert full.execute("SELECT sum(actual_population) FROM stats_population").fetchone() == actual
        assert full.execute("SELECT sum(actual_population) FROM stats_actual_composition").fetchone() == actual
        assert full.execute("""
            SELECT count(*) FROM stats_actual_composition
            WHERE actual_population <> registered_living_here + registered_elsewhere_living_here
                                      + floating_registered + active_unregistered""").fetchone() == (0,)
        new, gone, changed = full.execute(
            "SELECT sum(persons_new), sum(persons_gone), sum(persons_changed) FROM stats_change").fetchone()
        assert new > 0 and gone > 0 and changed > 0
        as_of = full.execute("SELECT count(*) FROM population_as_of(DATE '2024-12-31')").fetchone()
        assert as_of == full.execute(
            "SELECT count(*) FROM population_history WHERE valid_to IS NULL").fetchone()


def _guide_queries() -> list[tuple[str, str]]:
    text = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n-- file: (\w+)\n(.*?)```", text, flags=re.S)
    return [(file, sql) for file, sql in blocks]


def test_the_ten_guide_queries_run_on_the_fixture(published: publish_module.PublishResult) -> None:
    queries = _guide_queries()
    assert len(queries) >= 10
    files = {"analyst": published.analyst_file, "population": published.population_file}
    for file, sql in queries:
        with _ro(files[file]) as con:
            rows = con.execute(sql).fetchall()
        assert rows is not None


def test_publish_needs_population_base(tmp_path: Path) -> None:
    work = tmp_path / "work.duckdb"
    with duckdb.connect(str(work)) as con:
        con.execute("CREATE SCHEMA marts")
    with pytest.raises(PublishError, match="population_base"):
        _publish(work, tmp_path / "wh")
    assert not (tmp_path / "wh" / "population.duckdb").exists()
    shutil.rmtree(tmp_path / "wh")
