"""The pseudonym store: a publish computes the HMAC only for values no earlier publish under the same key
computed, and publishes exactly what computing every pseudonym would (the oracle: Python's hmac)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import stat
import uuid
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.pseudonym import hmac_params, key_id, person_key
from pipelines.lib.pseudonym_store import KEY_TABLE, STORE_FILE, KeyCounts, store_path
from pipelines.lib.publish import PublishResult, publish
from tests.mart_fixtures import REFERENCE_DATE, build_marts

KEY = "test-key-0123456789abcdef-0123456789"
OTHER_KEY = "another-key-fedcba9876543210-fedcba98"
ANALYST_TABLES = ("population_base", "households", "person_relations", "population_history")


def _working_file(tmp_path: Path) -> Path:
    """The fixture's working file in a folder of its own, as in a deployment (the store goes beside it)."""
    (tmp_path / "work").mkdir()
    return build_marts(tmp_path / "work" / "work.duckdb")


def _publish(work: Path, warehouse: Path, key: str = KEY) -> PublishResult:
    return publish(work, warehouse, pseudonym_key=key, reference_date=REFERENCE_DATE)


def _rows(path: Path, table: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


def _base_ids(work: Path) -> list[str]:
    with duckdb.connect(str(work), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT citizen_id FROM marts.population_base").fetchall()]


def _stored(work: Path, table: str) -> dict[str, uuid.UUID]:
    with duckdb.connect(str(store_path(work)), read_only=True) as con:
        return dict(con.execute(f"SELECT value, pseudonym FROM {table}").fetchall())


def _household_oracle(key: str, value: str) -> uuid.UUID:
    message = f"household_no:{value.strip()}".encode()
    return uuid.UUID(hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32])


def test_a_second_publish_takes_every_pseudonym_from_the_store_and_publishes_the_same_files(tmp_path: Path) -> None:
    work = _working_file(tmp_path)
    first = _publish(work, tmp_path / "wh1")
    persons = len(_base_ids(work))
    assert first.pseudonyms["person_keys"] == KeyCounts(stored=0, computed=persons, removed=0)
    households = first.pseudonyms["household_no_keys"].computed
    assert households > 0
    expected = {t: _rows(first.analyst_file, t) for t in ANALYST_TABLES}

    second = _publish(work, tmp_path / "wh2")
    assert second.pseudonyms == {
        "person_keys": KeyCounts(stored=persons, computed=0, removed=0),
        "household_no_keys": KeyCounts(stored=households, computed=0, removed=0),
    }
    for table in ANALYST_TABLES:
        assert _rows(second.analyst_file, table) == expected[table], table


def test_new_persons_are_computed_and_gone_ones_leave_the_store(tmp_path: Path) -> None:
    work = _working_file(tmp_path)
    _publish(work, tmp_path / "wh")
    newcomer = "33030219900101123X"
    with duckdb.connect(str(work)) as con:
        gone = [r[0] for r in con.execute(
            "SELECT citizen_id FROM marts.population_base ORDER BY citizen_id LIMIT 3").fetchall()]
        con.execute("DELETE FROM marts.population_base WHERE citizen_id IN (SELECT unnest($gone))", {"gone": gone})
        con.execute("INSERT INTO marts.population_base SELECT * REPLACE ($id AS citizen_id) "
                    "FROM marts.population_base LIMIT 1", {"id": newcomer})
    again = _publish(work, tmp_path / "wh")
    ids = _base_ids(work)
    assert again.pseudonyms["person_keys"] == KeyCounts(stored=len(ids) - 1, computed=1, removed=3)
    assert _stored(work, "person_keys") == {i: person_key(KEY, i) for i in ids}
    keys = {r[0] for r in _rows(again.analyst_file, "population_base")}
    assert keys == {person_key(KEY, i) for i in ids}
    assert not {person_key(KEY, i) for i in gone} & keys


def test_a_publish_under_another_key_empties_the_store_first(tmp_path: Path) -> None:
    work = _working_file(tmp_path)
    _publish(work, tmp_path / "wh")
    rotated = _publish(work, tmp_path / "wh", key=OTHER_KEY)
    ids = _base_ids(work)
    assert rotated.pseudonyms["person_keys"] == KeyCounts(stored=0, computed=len(ids), removed=0)
    assert _stored(work, "person_keys") == {i: person_key(OTHER_KEY, i) for i in ids}
    assert all(v == _household_oracle(OTHER_KEY, k) for k, v in _stored(work, "household_no_keys").items())
    assert _stored(work, "household_no_keys")
    with duckdb.connect(str(store_path(work)), read_only=True) as con:
        assert con.execute(f"SELECT key_id FROM {KEY_TABLE}").fetchall() == [(key_id(OTHER_KEY),)]


def test_an_unreadable_store_is_replaced_and_every_pseudonym_computed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    work = _working_file(tmp_path)
    store_path(work).write_bytes(b"not a database" * 1000)
    with caplog.at_level(logging.WARNING, logger="pipelines.lib.pseudonym_store"):
        result = _publish(work, tmp_path / "wh")
    assert "cannot be opened" in caplog.text
    ids = _base_ids(work)
    assert result.pseudonyms["person_keys"] == KeyCounts(stored=0, computed=len(ids), removed=0)
    assert {r[0] for r in _rows(result.analyst_file, "population_base")} == {person_key(KEY, i) for i in ids}


def test_the_store_is_private_beside_the_working_file_and_holds_no_key(tmp_path: Path) -> None:
    work = _working_file(tmp_path)
    result = _publish(work, tmp_path / "wh")
    store = store_path(work)
    assert store.parent == work.parent and not list(result.population_file.parent.rglob(STORE_FILE))
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    data = store.read_bytes()
    pads = hmac_params(KEY)
    assert KEY.encode() not in data and pads["hmac_ipad"] not in data and pads["hmac_opad"] not in data
