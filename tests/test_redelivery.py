"""A delivery re-sent with the same data under a new date is copied, not parsed, and ends exactly as if parsed.

The oracle is a second working file that ingests and stages only the re-delivery, from its files.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.feeds import registry
from pipelines.lib.duck import connect
from pipelines.lib.ingest import ensure_ops_schema, ingest_feed
from pipelines.lib.ingest.reuse import code_fingerprint
from pipelines.lib.retention import prune_event_periods
from pipelines.lib.staging import stage_feed
from tests.fixture_deliveries import citizen_id, sample_row, write_delivery, write_manifest

FEEDS = registry().feeds
FIRST, AGAIN = dt.date(2026, 10, 31), dt.date(2026, 11, 30)
REF_FIRST, REF_AGAIN = dt.date(2026, 11, 5), dt.date(2026, 12, 5)


def _work(path: Path) -> duckdb.DuckDBPyConnection:
    con = connect(path, temp_directory=path.parent / "tmp", memory_limit="1GB")
    ensure_ops_schema(con)
    return con


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The working file the first delivery and its re-delivery are loaded into."""
    work = _work(tmp_path / "work.duckdb")
    yield work
    work.close()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return tmp_path / "landing"


def _id_header(feed_name: str) -> str:
    return next(c.header for c in FEEDS[feed_name].columns if c.type in ("citizen_id", "id_number"))


def _rows(feed_name: str) -> list[dict[str, str]]:
    """A valid row, the same row again (DUPLICATE), a row whose ID has a wrong check character and one
    whose ID's birth date is after either reference date (its message names the reference date)."""
    header = _id_header(feed_name)
    good = sample_row(feed_name)
    bad_id = good[header][:17] + ("1" if good[header][17] != "1" else "2")
    return [good, dict(good), sample_row(feed_name, **{header: bad_id}),
            sample_row(feed_name, **{header: citizen_id(birth="20900101", seq="357")})]


def _redeliver(landing: Path, feed_name: str) -> Path:
    """The first delivery's file again, byte for byte, under the new date and a new file name."""
    (src,) = [p for p in (landing / feed_name / f"{FIRST:%Y%m%d}").iterdir() if p.name != "_MANIFEST.json"]
    folder = landing / feed_name / f"{AGAIN:%Y%m%d}"
    folder.mkdir(parents=True)
    name = src.name.replace(f"{FIRST:%Y%m%d}", f"{AGAIN:%Y%m%d}")
    shutil.copyfile(src, folder / name)
    (entry,) = json.loads((src.parent / "_MANIFEST.json").read_text(encoding="utf-8"))["files"]
    write_manifest(folder, feed_name, AGAIN, {name: entry["rows"]})
    return folder


def _load(con: duckdb.DuckDBPyConnection, feed_name: str, landing: Path, ref: dt.date) -> tuple[list, list]:
    feed = FEEDS[feed_name]
    return ingest_feed(con, feed, landing), stage_feed(con, feed, reference_date=ref)


def _delivery_rows(con: duckdb.DuckDBPyConnection, feed_name: str, delivery_id: str) -> dict[str, list[tuple]]:
    """Everything the pipeline keeps of one delivery, in a comparable order."""
    where = {"d": delivery_id}
    return {
        "raw": con.execute(f'SELECT * FROM raw."{feed_name}" WHERE delivery_id = $d ORDER BY ALL', where).fetchall(),
        "staging": con.execute(f'SELECT * FROM staging."stg_{feed_name}" WHERE delivery_id = $d ORDER BY ALL',
                               where).fetchall(),
        "quarantine": con.execute("SELECT * FROM ops.quarantine WHERE delivery_id = $d ORDER BY ALL",
                                  where).fetchall(),
        "ledger": con.execute("SELECT status, rows_received, rows_loaded, rows_duplicate, rows_quarantined, files "
                              "FROM ops.deliveries WHERE delivery_id = $d", where).fetchall(),
    }


def _parsed_alone(tmp_path: Path, feed_name: str, folder: Path, ref: dt.date) -> dict[str, list[tuple]]:
    """The re-delivery ingested and staged from its files, in a working file of its own."""
    landing = tmp_path / "alone"
    shutil.copytree(folder, landing / feed_name / folder.name)
    con = _work(tmp_path / "alone.duckdb")
    try:
        (outcome,), _ = _load(con, feed_name, landing, ref)
        assert outcome.reused_from is None
        return _delivery_rows(con, feed_name, outcome.delivery_id)
    finally:
        con.close()


@pytest.mark.parametrize("feed_name", sorted(FEEDS))
def test_a_re_delivery_is_copied_and_ends_as_if_parsed(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, landing: Path, feed_name: str
) -> None:
    fmt = FEEDS[feed_name].format
    malformed = {"csv": [b"not,a,row"], "jsonl": [b"{not json"]}.get(fmt)
    write_delivery(landing, feed_name, FIRST, _rows(feed_name), extra_lines=malformed)
    (first,), _ = _load(con, feed_name, landing, REF_FIRST)
    folder = _redeliver(landing, feed_name)
    outcomes, staged = _load(con, feed_name, landing, REF_AGAIN)
    (again,) = [o for o in outcomes if o.delivery_date == AGAIN]
    assert again.status == "loaded" and again.reused_from == first.delivery_id
    assert [s.copied_from for s in staged] == [first.delivery_id]
    copied = _delivery_rows(con, feed_name, again.delivery_id)
    before = _delivery_rows(con, feed_name, first.delivery_id)
    parsed = _parsed_alone(tmp_path, feed_name, folder, REF_AGAIN)
    assert copied == parsed
    assert len(copied["raw"]) == len(before["raw"]) and copied["quarantine"], "the copy holds every kind of row"
    reasons = {row[5] for row in copied["quarantine"]}
    assert {"ID_CHECKSUM", "ID_BIRTH_DATE"} <= reasons and (malformed is None or "ROW_MALFORMED" in reasons)
    assert copied["ledger"][0][3] == 1  # the duplicate, counted


def test_a_birth_date_the_reference_date_has_reached_is_staged_again(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, landing: Path
) -> None:
    """A row quarantined because its ID's birth date was after the reference date passes a month later."""
    newborn = citizen_id(birth="20261120", seq="135")
    write_delivery(landing, "hukou", FIRST, [sample_row("hukou"), sample_row("hukou", GMSFHM=newborn,
                                                                              CSRQ="20261120")])
    (first,), _ = _load(con, "hukou", landing, REF_FIRST)
    assert _delivery_rows(con, "hukou", first.delivery_id)["ledger"][0][4] == 1  # ID_BIRTH_DATE
    folder = _redeliver(landing, "hukou")
    outcomes, staged = _load(con, "hukou", landing, REF_AGAIN)
    (again,) = [o for o in outcomes if o.delivery_date == AGAIN]
    assert again.reused_from == first.delivery_id  # raw rows do not depend on the reference date
    assert [s.copied_from for s in staged] == [None]
    assert [(s.rows_loaded, s.rows_quarantined) for s in staged] == [(2, 0)]
    copied = _delivery_rows(con, "hukou", again.delivery_id)
    assert copied == _parsed_alone(tmp_path, "hukou", folder, REF_AGAIN)


def test_a_delivery_loaded_by_other_code_is_not_copied(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    """After a change to the readers, rules or reference data, a re-delivery is parsed with the new code."""
    write_delivery(landing, "hukou", FIRST, _rows("hukou"))
    (first,), _ = _load(con, "hukou", landing, REF_FIRST)
    fingerprint = con.execute("SELECT code_fingerprint FROM ops.deliveries WHERE delivery_id = $d",
                              {"d": first.delivery_id}).fetchone()
    assert fingerprint == (code_fingerprint(FEEDS["hukou"]),)
    con.execute("UPDATE ops.deliveries SET code_fingerprint = 'an earlier release'")
    _redeliver(landing, "hukou")
    outcomes, staged = _load(con, "hukou", landing, REF_AGAIN)
    (again,) = [o for o in outcomes if o.delivery_date == AGAIN]
    assert again.reused_from is None and [s.copied_from for s in staged] == [None]
    assert again.rows_received == 4


def test_a_delivery_whose_old_events_were_pruned_is_parsed_again(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    """Event retention deletes rows of old periods without pruning the delivery: a re-delivery is parsed."""
    rows = [sample_row("tax"), sample_row("tax", 所得期间="2024-01")]
    write_delivery(landing, "tax", FIRST, rows)
    _load(con, "tax", landing, REF_FIRST)
    pruned = prune_event_periods(con, keep_months=12, reference_date=REF_FIRST, window_months=12)
    assert pruned.staged_rows == {"tax": 1}
    _redeliver(landing, "tax")
    outcomes, staged = _load(con, "tax", landing, REF_AGAIN)
    (again,) = [o for o in outcomes if o.delivery_date == AGAIN]
    assert again.reused_from is None
    assert [(s.copied_from, s.rows_loaded) for s in staged] == [(None, 2)]


def test_staged_rows_are_copied_only_while_all_are_kept(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    """Raw rows copied, but a staged row of the earlier delivery gone: the re-delivery is staged from raw."""
    write_delivery(landing, "hukou", FIRST, _rows("hukou"))
    (first,), _ = _load(con, "hukou", landing, REF_FIRST)
    _redeliver(landing, "hukou")
    (_, again) = ingest_feed(con, FEEDS["hukou"], landing)
    assert again.reused_from == first.delivery_id
    con.execute("DELETE FROM staging.stg_hukou WHERE delivery_id = $d AND source_row = 1",
                {"d": first.delivery_id})
    staged = stage_feed(con, FEEDS["hukou"], reference_date=REF_AGAIN)
    assert [(s.copied_from, s.rows_loaded, s.rows_duplicate) for s in staged] == [(None, 1, 1)]
