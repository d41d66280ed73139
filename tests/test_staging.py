"""stage_feed end to end on small raw deliveries built with SQL inserts (raw.<feed> + an ops.deliveries row)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import duckdb
import pytest

from pipelines.feeds import Feed, registry
from pipelines.lib.citizen_id import check_char
from pipelines.lib.ingest import ensure_ops_schema
from pipelines.lib.staging import StagingError, install_macros, stage_feed

REF = dt.date(2025, 6, 30)


def make_id(first17: str) -> str:
    return first17 + check_char(first17)


A = make_id("33030219900101123")
B = make_id("33038219910203124")
C15 = "330324850607321"  # legacy 15-digit form of C
C = make_id("33032419850607321")
D = make_id("11010519800101002")


def create_ops_and_raw(con: duckdb.DuckDBPyConnection) -> None:
    """The tables ingestion owns (ops.deliveries, ops.quarantine, raw.<feed>), as ingestion creates them."""
    ensure_ops_schema(con)


def load_delivery(
    con: duckdb.DuckDBPyConnection, feed: Feed, delivery_id: str, rows: list[dict[str, str | None]],
    *, malformed: int = 0, rows_received: int | None = None, delivery_date: str = "2025-05-31",
) -> None:
    """Raw rows (dicts by canonical name, missing = ''), ledger row, and `malformed` ROW_MALFORMED rows."""
    names = feed.column_names
    placeholders = ", ".join("?" for _ in range(3 + len(names)))
    for n, row in enumerate(rows, start=1):
        con.execute(f'INSERT INTO raw."{feed.name}" VALUES ({placeholders})',
                    [delivery_id, "f.csv", n, *[row.get(c, "") for c in names]])
    for k in range(malformed):
        con.execute(
            "INSERT INTO ops.quarantine VALUES (?, ?, CAST(? AS DATE), 'f.csv', ?, 'ROW_MALFORMED', NULL, NULL,"
            " 'wrong number of fields', '{\"line\": \"x\"}')",
            [delivery_id, feed.name, delivery_date, len(rows) + k + 1])
    received = len(rows) + malformed if rows_received is None else rows_received
    con.execute("INSERT INTO ops.deliveries (delivery_id, feed, delivery_date, content_hash, status, rows_received) "
                "VALUES (?, ?, CAST(? AS DATE), ?, 'loaded', ?)",
                [delivery_id, feed.name, delivery_date, delivery_id, received])


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    install_macros(c)
    return c


def hukou_row(cid: str, **kw: str) -> dict[str, str]:
    row = {"citizen_id": cid, "name": "张三", "sex": "1", "ethnicity_code": "01", "birth_date": "19900101",
           "household_no": "H1", "relation_code": "02", "hukou_district_code": "330302",
           "hukou_address": "鹿城区某路1号", "former_hukou_nature": "农业", "person_status": "0",
           "status_change_date": ""}
    return {**row, **kw}


HUKOU_ROWS: list[tuple[dict[str, str], str | None, str | None]] = [
    # (row, expected reason, expected column)
    (hukou_row(A), None, None),                                                             # 1
    (hukou_row(" " + B.translate(str.maketrans("0123456789", "０１２３４５６７８９")), name=" 李四 ",
               sex="女", birth_date="1991/2/3", household_no="H2", former_hukou_nature=""), None, None),  # 2
    (hukou_row(C15, household_no="H3", birth_date="1985年6月7日"), None, None),              # 3
    (hukou_row(A[:17] + ("1" if A[17] != "1" else "2"), household_no="H4"), "ID_CHECKSUM", "citizen_id"),  # 4
    (hukou_row("3.30302199001011E+17", household_no="H5"), "ID_PRECISION_LOST", "citizen_id"),  # 5
    (hukou_row("", household_no="H6"), "ID_MISSING", "citizen_id"),                         # 6
    (hukou_row("12345", household_no="H7"), "ID_MALFORMED", "citizen_id"),                  # 7
    (hukou_row(make_id("33030220300101123"), household_no="H8"), "ID_BIRTH_DATE", "citizen_id"),  # 8
    (hukou_row(make_id("99999919900101123"), household_no="H9"), "ID_REGION", "citizen_id"),  # 9
    (hukou_row(make_id("33030219900101125"), household_no="H10", birth_date="19990230"),
     "DATE_INVALID", "birth_date"),                                                          # 10
    (hukou_row(make_id("33030219900101127"), household_no="H11", sex="3"), "VALUE_INVALID", "sex"),  # 11
    (hukou_row(make_id("33030219900101129"), household_no="H12", hukou_district_code="330399"),
     "VALUE_INVALID", "hukou_district_code"),                                                # 12
    (hukou_row(make_id("33030219900101131"), household_no=""), "VALUE_INVALID", "household_no"),  # 13
    (hukou_row(A), "DUPLICATE", None),                                                      # 14 exact duplicate of 1
    (hukou_row(D, household_no="H15"), "KEY_CONFLICT", "name"),                             # 15
    (hukou_row(D, household_no="H15", name="张叁", sex="2"), "KEY_CONFLICT", "name"),        # 16
]


def test_hukou_reasons_values_and_accounting(con: duckdb.DuckDBPyConnection) -> None:
    feed = registry().feeds["hukou"]
    create_ops_and_raw(con)
    load_delivery(con, feed, "hukou/20250531/abc", [r for r, _, _ in HUKOU_ROWS], malformed=1)

    [out] = stage_feed(con, feed, reference_date=REF)

    expected_q = {n: (reason, col) for n, (_, reason, col) in enumerate(HUKOU_ROWS, start=1)
                  if reason not in (None, "DUPLICATE")}
    got_q = {r[0]: (r[1], r[2]) for r in con.execute(
        "SELECT source_row, reason_code, column_name FROM ops.quarantine "
        "WHERE reason_code <> 'ROW_MALFORMED' ORDER BY source_row").fetchall()}
    assert got_q == expected_q
    assert out.rows_received == 17
    assert (out.rows_loaded, out.rows_duplicate, out.rows_quarantined) == (3, 1, len(expected_q) + 1)
    assert out.rows_received == out.rows_loaded + out.rows_duplicate + out.rows_quarantined
    assert out.quarantined_by_reason["ROW_MALFORMED"] == 1
    assert out.quarantined_by_reason["KEY_CONFLICT"] == 2

    ledger = con.execute("SELECT rows_loaded, rows_duplicate, rows_quarantined, staged_at IS NOT NULL "
                         "FROM ops.deliveries").fetchone()
    assert ledger == (3, 1, len(expected_q) + 1, True)

    staged = {r[0]: r[1:] for r in con.execute(
        "SELECT source_row, citizen_id, name, sex, birth_date, former_hukou_nature, status_change_date, "
        "delivery_date FROM staging.stg_hukou").fetchall()}
    assert set(staged) == {1, 2, 3}
    assert staged[1] == (A, "张三", "男", dt.date(1990, 1, 1), "农业", None, dt.date(2025, 5, 31))
    assert staged[2] == (B, "李四", "女", dt.date(1991, 2, 3), None, None, dt.date(2025, 5, 31))
    assert staged[3][0] == C and staged[3][3] == dt.date(1985, 6, 7)


def test_quarantine_rows_are_clerk_readable_and_carry_raw_record(con: duckdb.DuckDBPyConnection) -> None:
    feed = registry().feeds["hukou"]
    create_ops_and_raw(con)
    load_delivery(con, feed, "hukou/20250531/abc", [r for r, _, _ in HUKOU_ROWS])
    stage_feed(con, feed, reference_date=REF)
    rows = con.execute(
        "SELECT source_row, reason_code, offending_value, detail, raw_record FROM ops.quarantine "
        "ORDER BY source_row").fetchall()
    raw_by_row = {n: r for n, (r, _, _) in enumerate(HUKOU_ROWS, start=1)}
    for source_row, reason, offending, detail, raw_record in rows:
        record = json.loads(raw_record)
        assert list(record) == feed.headers
        assert record == {c.header: raw_by_row[source_row][c.name] for c in feed.columns}
        assert detail and " / " in detail
        cid = raw_by_row[source_row]["citizen_id"]
        if len(cid) >= 15:
            assert cid not in detail
        assert raw_by_row[source_row]["name"] not in detail
        if reason.startswith("ID_"):
            assert offending == cid
    details = {r[0]: r[3] for r in rows}
    assert f"expected {check_char(A[:17])}, found" in details[4]
    assert "999999" in details[9]
    assert "姓名 (name)" in details[15] and "性别代码 (sex)" in details[15]


def tax_row(id_type: str, id_number: str, **kw: str) -> dict[str, str]:
    row = {"id_type": id_type, "id_number": id_number, "name": "张三", "income_period": "2025-04",
           "income_item": "工资薪金所得", "income_amount": "12,345.67", "tax_withheld": "１２３．４０",
           "agent_name": "温州某公司", "agent_credit_code": "91330300MA2AAAAA1X", "tax_office_district_code": "330302"}
    return {**row, **kw}


def test_tax_non_citizen_ids_are_kept_and_amounts_typed(con: duckdb.DuckDBPyConnection) -> None:
    feed = registry().feeds["tax"]
    create_ops_and_raw(con)
    load_delivery(con, feed, "tax/20250531/abc", [
        tax_row("居民身份证", A),
        tax_row("护照", " E12345678 ", name="John Smith"),
        tax_row("外国人永久居留身份证", "USA330000123456789", income_period="202504"),
        tax_row("居民身份证", "E12345678"),                       # a passport number typed as 居民身份证
        tax_row("居民身份证", B, income_amount="12.345,67"),       # European decimal comma
        tax_row("驾驶证", B),                                       # not in the code list
        tax_row("居民身份证", C, income_period="2025-13"),
    ])
    [out] = stage_feed(con, feed, reference_date=REF)
    assert (out.rows_loaded, out.rows_duplicate, out.rows_quarantined) == (3, 0, 4)
    staged = con.execute("SELECT source_row, id_type, id_number, citizen_id, income_period, income_amount, "
                         "tax_withheld FROM staging.stg_tax ORDER BY source_row").fetchall()
    assert staged[0][1:] == ("居民身份证", A, A, dt.date(2025, 4, 1), Decimal("12345.67"), Decimal("123.40"))
    assert staged[1][1:4] == ("护照", "E12345678", None)
    assert staged[2][1:5] == ("外国人永久居留身份证", "USA330000123456789", None, dt.date(2025, 4, 1))
    reasons = dict(con.execute("SELECT source_row, reason_code FROM ops.quarantine").fetchall())
    assert reasons == {4: "ID_MALFORMED", 5: "VALUE_INVALID", 6: "VALUE_INVALID", 7: "DATE_INVALID"}


def property_row(**kw: str) -> dict[str, str]:
    row = {"title_no": "浙(2025)温州市不动产权第0000001号", "unit_no": "330302001001GB00001F00010001",
           "owner_name": "张三", "owner_id_type": "居民身份证", "owner_id_number": A, "co_ownership": "单独所有",
           "share": "", "location": "鹿城区某路1号", "district_code": "330302", "usage": "住宅",
           "floor_area": "89.5", "registration_date": "2024-05-06", "title_status": "现势"}
    return {**row, **kw}


def test_property_shares_and_organisations(con: duckdb.DuckDBPyConnection) -> None:
    feed = registry().feeds["property"]
    create_ops_and_raw(con)
    u2 = "330302001001GB00001F00010002"
    load_delivery(con, feed, "property/20250531/abc", [
        property_row(),
        property_row(unit_no=u2, co_ownership="按份共有", share="50%"),
        property_row(unit_no=u2, owner_id_number=B, co_ownership="按份共有", share="1/2", owner_name="李四"),
        property_row(unit_no=u2, owner_id_type="统一社会信用代码", owner_id_number="91330300MA2AAAAA1X",
                     owner_name="温州某公司", co_ownership="按份共有", share="０.５"),
        property_row(unit_no=u2, owner_id_number=C, co_ownership="按份共有", share=""),      # share missing
        property_row(unit_no=u2, owner_id_number=D, co_ownership="按份共有", share="150%"),  # share > 1
    ])
    [out] = stage_feed(con, feed, reference_date=REF)
    assert (out.rows_loaded, out.rows_quarantined) == (4, 2)
    staged = con.execute("SELECT source_row, owner_citizen_id, share, floor_area FROM staging.stg_property "
                         "ORDER BY source_row").fetchall()
    assert [r[1] for r in staged] == [A, A, B, None]
    assert [r[2] for r in staged] == [None, 0.5, 0.5, 0.5]
    reasons = con.execute("SELECT source_row, reason_code, column_name FROM ops.quarantine ORDER BY 1").fetchall()
    assert reasons == [(5, "VALUE_INVALID", "share"), (6, "VALUE_INVALID", "share")]


def test_restaging_replaces_its_own_output_and_keeps_row_malformed(con: duckdb.DuckDBPyConnection) -> None:
    feed = registry().feeds["hukou"]
    create_ops_and_raw(con)
    load_delivery(con, feed, "hukou/20250531/abc", [r for r, _, _ in HUKOU_ROWS], malformed=2)
    first = stage_feed(con, feed, reference_date=REF)
    assert stage_feed(con, feed, reference_date=REF) == []  # nothing pending
    con.execute("UPDATE ops.deliveries SET staged_at = NULL")
    second = stage_feed(con, feed, reference_date=REF)
    key = [(o.rows_loaded, o.rows_duplicate, o.rows_quarantined, o.quarantined_by_reason) for o in first]
    assert key == [(o.rows_loaded, o.rows_duplicate, o.rows_quarantined, o.quarantined_by_reason) for o in second]
    counts = con.execute("SELECT (SELECT count(*) FROM staging.stg_hukou), "
                         "(SELECT count(*) FROM ops.quarantine WHERE reason_code = 'ROW_MALFORMED')").fetchone()
    assert counts == (3, 2)


def test_accounting_mismatch_raises_and_rolls_back(con: duckdb.DuckDBPyConnection) -> None:
    feed = registry().feeds["hukou"]
    create_ops_and_raw(con)
    load_delivery(con, feed, "hukou/20250531/abc", [hukou_row(A)], rows_received=5)
    with pytest.raises(StagingError, match=r"hukou/20250531/abc.*received 5 != loaded 1"):
        stage_feed(con, feed, reference_date=REF)
    assert con.execute("SELECT count(*) FROM staging.stg_hukou").fetchone() == (0,)
    assert con.execute("SELECT staged_at FROM ops.deliveries").fetchone() == (None,)


def _stage_first_snapshot(con: duckdb.DuckDBPyConnection) -> tuple[Feed, list[dict[str, str]]]:
    """HUKOU_ROWS staged as the May snapshot; returns the feed and the rows."""
    feed = registry().feeds["hukou"]
    rows = [r for r, _, _ in HUKOU_ROWS]
    create_ops_and_raw(con)
    load_delivery(con, feed, "hukou/20250531/a", rows)
    stage_feed(con, feed, reference_date=REF)
    return feed, rows


def test_a_later_snapshot_is_staged_under_the_rules_in_force(con: duckdb.DuckDBPyConnection) -> None:
    feed, rows = _stage_first_snapshot(con)
    # A new county code: row 12 (county 330399, quarantined so far) must now be staged.
    con.execute("INSERT INTO ref.code_lists VALUES ('wenzhou_county', '330399', '新区')")
    load_delivery(con, feed, "hukou/20250630/b", rows, delivery_date="2025-06-30")

    [out] = stage_feed(con, feed, reference_date=REF)

    assert out.quarantined_by_reason["VALUE_INVALID"] == 2
    assert con.execute("SELECT source_row FROM staging.stg_hukou WHERE delivery_id = 'hukou/20250630/b' "
                       "ORDER BY 1").fetchall() == [(1,), (2,), (3,), (12,)]
