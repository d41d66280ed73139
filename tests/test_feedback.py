"""Department feedback packets: every quarantined row of the delivery, flags, suggestions, deadlines."""

import datetime as dt
import json
import re
from pathlib import Path

import dagster as dg
import python_calamine

from pipelines.defs.quality import feedback_packets_asset
from pipelines.defs.resources import PopbaseSettings, WorkDuckDB
from pipelines.lib.citizen_id import check_char
from pipelines.lib.duck import connect
from pipelines.lib.quality.feedback import reply_deadline, write_packets
from pipelines.lib.quality.sample import build_sample_warehouse

FULL_ID = re.compile(r"[0-9]{17}[0-9X]")


def _rows(path: Path) -> list[list[object]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name("问题清单 issues").to_python()


def test_reply_deadline_skips_weekends() -> None:
    assert reply_deadline(dt.date(2026, 4, 17)) == dt.date(2026, 4, 24)  # Friday → next Friday
    assert reply_deadline(dt.date(2026, 4, 13)) == dt.date(2026, 4, 20)  # Monday → next Monday
    assert reply_deadline(dt.date(2026, 4, 18)) == dt.date(2026, 4, 24)  # Saturday → Friday


def test_packet_lists_every_quarantined_row_with_suggestions(tmp_path: Path) -> None:
    con = connect(tmp_path / "work.duckdb")
    build_sample_warehouse(con, 3000)
    # a malformed row with no certain correction, next to the ID_CHECKSUM typos of the fixture
    con.execute("insert into ops.quarantine values ('tax/20260331/abc', 'tax', date '2026-03-31', 'tax.csv', 7, "
                "'ID_MALFORMED', 'id_number', '33030219900101', '长度不足', '{}')")
    expected = con.execute("select count(*) from ops.quarantine where delivery_id = 'tax/20260331/abc'").fetchone()[0]
    flags = con.execute("select count(*) from marts.person_flags where feed = 'tax'").fetchone()[0]
    checksum = con.execute("select offending_value from ops.quarantine where reason_code = 'ID_CHECKSUM'").fetchall()
    packets = {p.feed: p for p in write_packets(con, tmp_path / "wh", dt.date(2026, 4, 17))}
    con.close()
    assert set(packets) == {"hukou", "residence_permit", "education", "social_insurance", "tax", "marriage",
                            "property"}
    tax = packets["tax"]
    assert tax.path == tmp_path / "wh" / "feedback" / "20260417" / "tax_20260331.xlsx"
    rows = _rows(tax.path)
    header, body = rows[0], rows[1:]
    assert len(body) == expected + flags and tax.quarantined == expected
    quarantined = [r for r in body if str(r[2]).startswith("quarantine")]
    assert len(quarantined) == expected
    assert all(r[10] == "2026-04-24" for r in body)
    assert all(r[4] and r[5] for r in body), "reason in Chinese and English on every line"
    by_value = {r[7]: r for r in quarantined}
    for (value,) in checksum:
        suggestion = by_value[value][8]
        assert suggestion.startswith("建议 suggestion: ")
        for candidate in suggestion.removeprefix("建议 suggestion: ").split(" / "):
            assert candidate[17] == check_char(candidate[:17])
            assert sum(a != b for a, b in zip(candidate, value, strict=True)) == 1
    assert by_value["33030219900101"][8] == ""
    assert "回复截止 reply by" in header


def test_feedback_asset_metadata_has_counts_and_paths_only(tmp_path: Path) -> None:
    @dg.asset(key=["marts", "person_flags"])
    def person_flags(duckdb: WorkDuckDB) -> None:
        with duckdb.connect() as c:
            build_sample_warehouse(c, 1000)

    @dg.asset(key=["marts", "deliveries"], deps=[person_flags])
    def deliveries() -> None:
        """Built by the stub above."""

    resources = {
        "duckdb": WorkDuckDB(database=str(tmp_path / "work.duckdb")),
        "popbase": PopbaseSettings(landing_dir=str(tmp_path), warehouse_dir=str(tmp_path / "wh"),
                                   work_dir=str(tmp_path), reference_date="2026-04-15"),
    }
    result = dg.materialize([person_flags, deliveries, feedback_packets_asset()], resources=resources)
    metadata = result.asset_materializations_for_node("quality__feedback_packets")[0].metadata
    assert metadata["packets"].value == 7 and metadata["quarantined_rows"].value > 0
    files = metadata["files"].value
    assert all(Path(f["path"]).exists() for f in files)
    assert not FULL_ID.search(json.dumps({k: str(v.value) for k, v in metadata.items()}, ensure_ascii=False))


def test_suggestions_come_from_the_registers_history_not_the_staged_snapshots(tmp_path: Path) -> None:
    """Suggested corrections look up marts.population_history (every register snapshot, kept incrementally),
    so a person who left the registers still counts, and the cost does not grow with the snapshots kept."""
    con = connect(tmp_path / "work.duckdb")
    build_sample_warehouse(con, 3000)
    before = {p.feed: p.suggestions for p in write_packets(con, tmp_path / "a", dt.date(2026, 4, 17))}
    con.execute("delete from staging.stg_hukou")
    con.execute("delete from staging.stg_residence_permit")
    after = {p.feed: p.suggestions for p in write_packets(con, tmp_path / "b", dt.date(2026, 4, 17))}
    con.execute("drop table marts.population_history")
    without_history = {p.feed: p.suggestions for p in write_packets(con, tmp_path / "c", dt.date(2026, 4, 17))}
    con.close()
    assert sum(before.values()) > 0 and after == before
    assert sum(without_history.values()) == 0
