"""Ingestion from the landing directory into raw.<feed>, ops.quarantine and the ops.deliveries ledger."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.feeds import PROJECT_ROOT, registry
from pipelines.lib.duck import connect
from pipelines.lib.ingest import complete_deliveries, csv_reader, ensure_ops_schema, ingest_feed, jsonl_reader
from tests.fixture_deliveries import TAMPER, citizen_id, sample_row, write_delivery, write_manifest

FEEDS = registry().feeds
DAY = "20261031"


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    c = connect(tmp_path / "work.duckdb", temp_directory=tmp_path / "tmp", memory_limit="1GB")
    ensure_ops_schema(c)
    yield c
    c.close()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return tmp_path / "landing"


def raw_rows(con: duckdb.DuckDBPyConnection, feed: str) -> list[dict[str, object]]:
    cur = con.execute(f'SELECT * FROM raw."{feed}" ORDER BY delivery_id, source_file, source_row')
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def quarantine(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT feed, source_file, source_row, reason_code, detail, raw_record "
                       "FROM ops.quarantine ORDER BY feed, source_row").fetchall()


def ledger(con: duckdb.DuckDBPyConnection, feed: str) -> list[tuple]:
    return con.execute("SELECT delivery_id, delivery_date, status, rows_received, rows_quarantined, message "
                       "FROM ops.deliveries WHERE feed = ? ORDER BY delivery_date, ingested_at", [feed]).fetchall()


def canonical(feed: str, row: dict[str, str]) -> dict[str, str]:
    return {c.name: row.get(c.header, "") for c in FEEDS[feed].columns}


def write_lines(landing: Path, feed: str, date: str, lines: list[bytes], n_rows: int, name: str) -> Path:
    """A delivery whose data file is exactly `lines` (header first), with a correct manifest."""
    folder = landing / feed / date
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"".join(line + b"\n" for line in lines))
    write_manifest(folder, feed, date, {name: n_rows})
    return folder


# --- every format, all text, exact row numbers ---------------------------------------------------------

@pytest.mark.parametrize("feed", list(FEEDS))
def test_each_feed_format_loads_as_text_with_row_numbers(con, landing, feed):
    rows = [sample_row(feed), sample_row(feed)]
    id_header = FEEDS[feed].id_columns[0].header
    rows[1][id_header] = "330302199001011234"
    write_delivery(landing, feed, DAY, rows)
    [outcome] = ingest_feed(con, FEEDS[feed], landing)
    assert (outcome.status, outcome.rows_received, outcome.rows_malformed) == ("loaded", 2, 0)
    got = raw_rows(con, feed)
    assert [r["source_row"] for r in got] == [1, 2]
    assert {r["source_file"] for r in got} == {f"{feed}_{DAY}.{FEEDS[feed].format}"}
    for r, sent in zip(got, rows, strict=True):
        assert {k: (v or "") for k, v in r.items() if k in FEEDS[feed].column_names} == canonical(feed, sent)
    assert got[1][FEEDS[feed].id_columns[0].name] == "330302199001011234"
    types = con.execute("SELECT data_type FROM duckdb_columns() WHERE schema_name = 'raw' AND table_name = ? "
                        "AND column_name NOT IN ('source_row')", [feed]).fetchall()
    assert {t for (t,) in types} == {"VARCHAR"}


def test_hukou_leading_zero_code_and_gb18030_names(con, landing):
    write_delivery(landing, "hukou", DAY, [sample_row("hukou", MZDM="01", XM="欧阳·娜娜", YHZGXDM="02")])
    ingest_feed(con, FEEDS["hukou"], landing)
    [r] = raw_rows(con, "hukou")
    assert (r["ethnicity_code"], r["name"], r["relation_code"]) == ("01", "欧阳·娜娜", "02")
    assert (landing / "hukou" / DAY / f"hukou_{DAY}.csv").read_bytes().decode("gb18030").startswith("GMSFHM,XM")


def test_residence_permit_bom_is_not_part_of_the_first_header(con, landing):
    folder = write_delivery(landing, "residence_permit", DAY, [sample_row("residence_permit")])
    assert (folder / f"residence_permit_{DAY}.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    [o] = ingest_feed(con, FEEDS["residence_permit"], landing)
    assert o.status == "loaded"


def test_marriage_csv_first_then_xlsx_with_numeric_cells(con, landing):
    write_delivery(landing, "marriage", "20260930", [sample_row("marriage")], fmt="csv")
    xrow: dict[str, object] = sample_row("marriage")
    xrow["男方公民身份号码"] = 330302199001011234  # Excel turned the ID into a number
    xrow["登记日期"] = dt.date(2026, 10, 8)  # a real date cell
    xrow["登记机关区划代码"] = 330302  # a whole number cell
    second: dict[str, object] = sample_row("marriage", 登记证字号="J2")
    second["登记日期"] = 46300  # an Excel serial number that is not formatted as a date
    write_delivery(landing, "marriage", DAY, [xrow, second])
    outcomes = ingest_feed(con, FEEDS["marriage"], landing)
    assert [o.status for o in outcomes] == ["loaded", "loaded"]
    got = [r for r in raw_rows(con, "marriage") if r["source_file"].endswith(".xlsx")]
    assert [r["source_row"] for r in got] == [1, 2]
    lost = got[0]["husband_citizen_id"]
    assert "e+17" in lost and not lost.endswith("1234")  # lost precision stays visible, no invented digits
    assert got[0]["registration_date"] == "2026-10-08"
    assert got[0]["office_district_code"] == "330302"
    assert got[1]["registration_date"] == "46300"


def test_jsonl_numbers_keep_their_json_text(con, landing):
    row: dict[str, object] = sample_row("social_insurance")
    row["aac002"] = 330302199001011234
    row["aae202"] = 141
    row["aab001"] = 3.30302199001011e17
    write_delivery(landing, "social_insurance", DAY, [row])
    ingest_feed(con, FEEDS["social_insurance"], landing)
    [r] = raw_rows(con, "social_insurance")
    assert (r["citizen_id"], r["months_paid"], r["employer_no"]) == ("330302199001011234", "141",
                                                                      "3.30302199001011e+17")


def test_parquet_typed_columns_are_cast_to_text(con, landing):
    folder = landing / "property" / DAY
    folder.mkdir(parents=True)
    cols: dict[str, object] = {h: [v, v] for h, v in sample_row("property").items()}
    cols["建筑面积"] = pa.array([89.5, 120.0])
    cols["登记日期"] = pa.array([dt.date(2026, 9, 1), dt.date(2026, 9, 2)])
    pq.write_table(pa.table(cols), folder / "p.parquet")
    write_manifest(folder, "property", DAY, {"p.parquet": 2})
    [o] = ingest_feed(con, FEEDS["property"], landing)
    assert o.status == "loaded"
    got = raw_rows(con, "property")
    assert [(r["source_row"], r["floor_area"], r["registration_date"]) for r in got] == [
        (1, "89.5", "2026-09-01"), (2, "120.0", "2026-09-02")]


# --- ROW_MALFORMED -------------------------------------------------------------------------------------

def _csv_line(feed: str, row: dict[str, str], encoding: str) -> bytes:
    return ",".join(row[h] for h in FEEDS[feed].headers).encode(encoding)


def test_wrong_field_count_is_quarantined_and_the_rest_loads(con, landing):
    good = [_csv_line("education", sample_row("education", 学籍号=f"S{i}"), "utf-8") for i in range(4)]
    header = ",".join(FEEDS["education"].headers).encode()
    lines = [header, good[0], b"a,b,c", good[1], good[2] + b",extra,fields", good[3]]
    write_lines(landing, "education", DAY, lines, 5, "e.csv")
    [o] = ingest_feed(con, FEEDS["education"], landing)
    assert (o.status, o.rows_received, o.rows_malformed) == ("loaded", 5, 2)
    assert [(r["source_row"], r["student_no"]) for r in raw_rows(con, "education")] == [
        (1, "S0"), (3, "S1"), (5, "S3")]
    q = quarantine(con)
    assert [(r[2], r[3]) for r in q] == [(2, "ROW_MALFORMED"), (4, "ROW_MALFORMED")]
    assert q[0][4].startswith("row has 3 fields, the header has 12")
    assert q[1][4].startswith("row has 14 fields, the header has 12")
    assert json.loads(q[0][5]) == {"line": "a,b,c"}


def test_invalid_gb18030_bytes_quarantine_only_that_row(con, landing):
    rows = [sample_row("hukou", HH=f"H{i}") for i in range(3)]
    bad = _csv_line("hukou", sample_row("hukou", HH="HBAD"), "gb18030").replace(b"HBAD", b"H\x81\x20BAD")
    lines = [",".join(FEEDS["hukou"].headers).encode(), _csv_line("hukou", rows[0], "gb18030"), bad,
             _csv_line("hukou", rows[1], "gb18030"), _csv_line("hukou", rows[2], "gb18030")]
    write_lines(landing, "hukou", DAY, lines, 4, "h.csv")
    [o] = ingest_feed(con, FEEDS["hukou"], landing)
    assert (o.rows_received, o.rows_malformed) == (4, 1)
    assert [(r["source_row"], r["household_no"]) for r in raw_rows(con, "hukou")] == [
        (1, "H0"), (3, "H1"), (4, "H2")]
    [q] = quarantine(con)
    assert q[2:4] == (2, "ROW_MALFORMED")
    assert "not valid GB18030 at byte offset" in q[4] and "line 3" in q[4]
    assert "\ufffd" in json.loads(q[5])["line"]
    assert citizen_id() not in q[4]


def test_invalid_utf8_bytes_quarantine_only_that_row(con, landing):
    rows = [sample_row("tax", 已缴税额=f"{i}.00") for i in range(3)]
    lines = [",".join(FEEDS["tax"].headers).encode(), _csv_line("tax", rows[0], "utf-8"),
             _csv_line("tax", rows[1], "utf-8").replace("张三".encode(), b"\xe5\xbc\xff"),
             _csv_line("tax", rows[2], "utf-8")]
    write_lines(landing, "tax", DAY, lines, 3, "t.csv")
    [o] = ingest_feed(con, FEEDS["tax"], landing)
    assert (o.rows_received, o.rows_malformed) == (3, 1)
    assert [r["source_row"] for r in raw_rows(con, "tax")] == [1, 3]
    [q] = quarantine(con)
    assert q[2] == 2 and "not valid UTF-8" in q[4]


def test_bad_bytes_in_a_continuation_line_quarantine_the_row_it_belongs_to(con, landing):
    """Multi-line values: a bad line belongs to the row it continues; a delivered U+FFFD is not bad bytes."""
    header = ",".join(FEEDS["education"].headers).encode()
    school = FEEDS["education"].headers.index("学校名称")

    def line(no: str, school_name: bytes = b"School") -> bytes:
        values = [v.encode() for v in (sample_row("education", 学籍号=no)[h] for h in FEEDS["education"].headers)]
        values[school] = school_name
        return b",".join(values)

    lines = [header,
             line("S1"),
             line("S2", b'"first line\nsecond \xff line"'),   # data rows 2-3: bad bytes on its 2nd line
             line("S3", "delivered \ufffd".encode()),           # data row 4: valid UTF-8 U+FFFD, kept
             line("S4", b"bad \xff") + b",extra",               # data row 5: bad bytes and a field too many
             line("S5")]                                        # data row 6
    write_lines(landing, "education", DAY, lines, 5, "q.csv")
    [o] = ingest_feed(con, FEEDS["education"], landing)
    assert (o.rows_received, o.rows_malformed) == (5, 2)
    assert [(r["source_row"], r["student_no"]) for r in raw_rows(con, "education")] == [
        (1, "S1"), (4, "S3"), (6, "S5")]
    assert raw_rows(con, "education")[1]["school_name"] == "delivered \ufffd"
    q = quarantine(con)
    assert [r[2] for r in q] == [2, 5]
    assert "not valid UTF-8" in q[0][4] and "line 4" in q[0][4]
    assert "not valid UTF-8" in q[1][4] and "line 6" in q[1][4]


@pytest.mark.parametrize(("multiline", "values", "keys", "expected"), [
    (False, ["a\ufffd", "b", "c\ufffd"], [3, 11, 12, 14], [12]),  # one line per row: only a row's own line
    (True, ["a\ufffd", "b", "c\ufffd"], [3, 11, 14], [10, 13]),   # continuation lines of rows 10 and 13
    (True, ["a", "b", "c"], [11, 14], []),                          # no U+FFFD: lines of skipped rows
])
def test_rows_with_bad_bytes_of_one_batch(multiline, values, keys, expected):
    """Rows 10, 12 and 13 of a batch; `keys` are the data lines with bad bytes."""
    table = pa.table({"source_row": pa.array([10, 12, 13], pa.int64()), "value": values})
    assert csv_reader._rows_with_bad_bytes(table, dict.fromkeys(keys), multiline=multiline) == expected


@pytest.mark.parametrize("chunk_bytes", [None, 100])  # 100: every line is a chunk of its own
def test_broken_json_line_is_quarantined_and_the_rest_loads(con, landing, monkeypatch, chunk_bytes):
    if chunk_bytes:
        monkeypatch.setattr(jsonl_reader, "CHUNK_BYTES", chunk_bytes)
    good = [json.dumps(sample_row("social_insurance", aac001=str(i)), ensure_ascii=False).encode() for i in range(3)]
    lines = [good[0], b'{"aac001": "x", "aac002": ', good[1], b"[1, 2]", b"", good[2], b'{"aac001": "\xff"}']
    folder = landing / "social_insurance" / DAY
    folder.mkdir(parents=True)
    (folder / "s.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    write_manifest(folder, "social_insurance", DAY, {"s.jsonl": 6})  # the blank line is not a row
    [o] = ingest_feed(con, FEEDS["social_insurance"], landing)
    assert (o.status, o.rows_received, o.rows_malformed) == ("loaded", 6, 3)
    assert [(r["source_row"], r["person_no"]) for r in raw_rows(con, "social_insurance")] == [
        (1, "0"), (3, "1"), (6, "2")]
    assert [(r[2], r[3]) for r in quarantine(con)] == [(2, "ROW_MALFORMED"), (4, "ROW_MALFORMED"),
                                                        (7, "ROW_MALFORMED")]


@pytest.mark.parametrize("max_bytes", [None, 0])  # 0: every chunk takes the 64-bit-offset path
def test_json_lines_are_split_into_non_blank_lines_with_numbers(monkeypatch, max_bytes):
    if max_bytes is not None:
        monkeypatch.setattr(jsonl_reader, "STRING_ARRAY_MAX_BYTES", max_bytes)
    data = b'{"a": 1}\r\n\n  \t\r\n\xe3\x80\x80\n [1]\n{"b": "\xe4\xb8\xad"}'
    table = jsonl_reader.split_lines(jsonl_reader.TextChunk(data, first_line=5))
    assert table.column("source_row").to_pylist() == [5, 9, 10]
    assert [line.rstrip("\r\n") for line in table.column("line").to_pylist()] == ['{"a": 1}', " [1]", '{"b": "中"}']


@pytest.mark.parametrize("chunk_bytes", [None, 100])
def test_an_unknown_json_key_in_the_last_line_rejects_the_delivery(con, landing, monkeypatch, chunk_bytes):
    if chunk_bytes:
        monkeypatch.setattr(jsonl_reader, "CHUNK_BYTES", chunk_bytes)
    rows: list[dict[str, object]] = [sample_row("social_insurance", aac001=str(i)) for i in range(3)]
    rows[-1]["aac999"] = "x"
    write_delivery(landing, "social_insurance", DAY, rows, headers=[*FEEDS["social_insurance"].headers, "aac999"])
    [o] = ingest_feed(con, FEEDS["social_insurance"], landing)
    assert o.status == "rejected" and "unknown column(s) 'aac999'" in o.message
    assert raw_rows(con, "social_insurance") == []


def test_a_file_in_another_encoding_is_rejected_naming_the_encoding_to_re_export_in(con, landing):
    header = ",".join(FEEDS["education"].headers).encode("gb18030")  # a UTF-8 feed delivered in GB18030
    rows = [_csv_line("education", sample_row("education", 学籍号=f"S{i}"), "gb18030") for i in range(3)]
    write_lines(landing, "education", DAY, [header, *rows], 3, "e.csv")
    [o] = ingest_feed(con, FEEDS["education"], landing)
    assert o.status == "rejected"
    assert o.message.startswith("file e.csv: the header line has bytes not valid UTF-8 at byte offset ")
    assert o.message.endswith("re-export the file in UTF-8")
    assert raw_rows(con, "education") == []


def test_quoted_values_with_commas_and_newlines(con, landing):
    header = ",".join(FEEDS["education"].headers).encode()
    r1 = sample_row("education", 学籍号="S1", 学校名称='温州市"实验",小学')
    r2 = sample_row("education", 学籍号="S2", 学校名称="第一行\n第二行")
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([[r[h] for h in FEEDS["education"].headers] for r in (r1, r2)])
    body = buf.getvalue().encode()
    write_lines(landing, "education", DAY, [header, body.rstrip(b"\n"),
                                            _csv_line("education", sample_row("education", 学籍号="S3"), "utf-8")],
                3, "q.csv")
    [o] = ingest_feed(con, FEEDS["education"], landing)
    assert (o.rows_received, o.rows_malformed) == (3, 0)
    got = raw_rows(con, "education")
    assert [(r["source_row"], r["school_name"]) for r in got] == [
        (1, '温州市"实验",小学'), (2, "第一行\n第二行"), (4, sample_row("education")["学校名称"])]


def test_accounting_received_equals_raw_plus_quarantined(con, landing):
    write_delivery(landing, "hukou", DAY, [sample_row("hukou")] * 5,
                   extra_lines=[b"1,2", b"\xff\xfe" + b"," * 11])
    [o] = ingest_feed(con, FEEDS["hukou"], landing)
    [(_, _, status, received, quarantined, _)] = ledger(con, "hukou")
    assert (status, received, quarantined) == ("loaded", 7, 2)
    assert o.rows_received == len(raw_rows(con, "hukou")) + len(quarantine(con)) == 7


# --- exactly once, replacement, manifests ------------------------------------------------------------

def test_same_delivery_twice_is_loaded_once(con, landing):
    write_delivery(landing, "tax", DAY, [sample_row("tax")] * 3)
    assert [o.status for o in ingest_feed(con, FEEDS["tax"], landing)] == ["loaded"]
    assert [o.status for o in ingest_feed(con, FEEDS["tax"], landing)] == ["unchanged"]
    assert len(ledger(con, "tax")) == 1
    assert len(raw_rows(con, "tax")) == 3


def test_redelivery_with_new_content_replaces_the_old_one(con, landing):
    write_delivery(landing, "hukou", DAY, [sample_row("hukou")] * 3, extra_lines=[b"x,y"])
    [first] = ingest_feed(con, FEEDS["hukou"], landing)
    con.execute("CREATE SCHEMA IF NOT EXISTS staging")
    con.execute("CREATE TABLE staging.stg_hukou (delivery_id VARCHAR, source_row BIGINT)")
    con.execute("INSERT INTO staging.stg_hukou VALUES (?, 1)", [first.delivery_id])
    write_delivery(landing, "hukou", DAY, [sample_row("hukou", HH="NEW")] * 2)
    [second] = ingest_feed(con, FEEDS["hukou"], landing)
    assert second.status == "replaced" and second.delivery_id != first.delivery_id
    assert {r["household_no"] for r in raw_rows(con, "hukou")} == {"NEW"}
    assert {r["delivery_id"] for r in raw_rows(con, "hukou")} == {second.delivery_id}
    assert quarantine(con) == []
    assert con.execute("SELECT count(*) FROM staging.stg_hukou").fetchone() == (0,)
    assert [(r[0], r[2]) for r in ledger(con, "hukou")] == [(first.delivery_id, "superseded"),
                                                             (second.delivery_id, "loaded")]


def test_delivery_without_manifest_waits_until_it_appears(con, landing):
    folder = write_delivery(landing, "tax", DAY, [sample_row("tax")] * 2, manifest=False)
    assert complete_deliveries(landing, FEEDS["tax"]) == []
    assert ingest_feed(con, FEEDS["tax"], landing) == []
    assert ledger(con, "tax") == [] and raw_rows(con, "tax") == []
    write_manifest(folder, "tax", DAY, {f"tax_{DAY}.csv": 2})
    assert [o.status for o in ingest_feed(con, FEEDS["tax"], landing)] == ["loaded"]
    assert len(raw_rows(con, "tax")) == 2


@pytest.mark.parametrize(("tamper", "expected"), [
    ("sha256", "tax_20261031.csv: sha256 is"),
    ("rows", "tax_20261031.csv: 2 data rows, the manifest says 3"),
    ("missing", "file part2.csv is listed in _MANIFEST.json but missing"),
    ("extra", "file unlisted.csv is in the delivery folder but not listed"),
    ("feed", "_MANIFEST.json says feed 'hukou'"),
    ("date", "_MANIFEST.json says delivery_date '2026-10-30'"),
])
def test_manifest_mismatch_rejects_the_whole_delivery(con, landing, tamper, expected):
    assert tamper in TAMPER
    write_delivery(landing, "tax", DAY, [sample_row("tax")] * 2, tamper=tamper)
    [o] = ingest_feed(con, FEEDS["tax"], landing)
    assert o.status == "rejected"
    assert expected in o.message
    assert raw_rows(con, "tax") == [] and quarantine(con) == []
    [(_, _, status, _, _, ledger_message)] = ledger(con, "tax")
    assert (status, ledger_message) == ("rejected", o.message)
    assert citizen_id() not in o.message


def test_rejected_delivery_is_retried_once_its_files_are_fixed(con, landing):
    folder = write_delivery(landing, "tax", DAY, [sample_row("tax")] * 2, tamper="sha256")
    assert [o.status for o in ingest_feed(con, FEEDS["tax"], landing)] == ["rejected"]
    assert [o.status for o in ingest_feed(con, FEEDS["tax"], landing)] == ["unchanged"]
    time.sleep(0.01)
    write_manifest(folder, "tax", DAY, {f"tax_{DAY}.csv": 2})  # the department re-sends a correct manifest
    assert [o.status for o in ingest_feed(con, FEEDS["tax"], landing)] == ["loaded"]
    assert [r[2] for r in ledger(con, "tax")] == ["rejected", "loaded"]


@pytest.mark.parametrize(("change", "expected"), [
    ("rename", "expected 证件号码, found '身份证号码'"),
    ("missing", "missing column(s) 已缴税额"),
    ("extra", "unknown column(s) '备注'"),
])
def test_header_mismatch_rejects_and_keeps_the_previous_snapshot(con, landing, change, expected):
    write_delivery(landing, "residence_permit", "20260930", [sample_row("residence_permit")])
    write_delivery(landing, "tax", "20260930", [sample_row("tax")])
    headers = list(FEEDS["tax"].headers)
    if change == "rename":
        headers[headers.index("证件号码")] = "身份证号码"
    elif change == "missing":
        headers.remove("已缴税额")
    else:
        headers.append("备注")
    write_delivery(landing, "tax", DAY, [{**sample_row("tax"), "身份证号码": "x", "备注": "y"}], headers=headers)
    outcomes = ingest_feed(con, FEEDS["tax"], landing)
    assert [o.status for o in outcomes] == ["loaded", "rejected"]
    assert expected in outcomes[1].message and "tax_20261031.csv" in outcomes[1].message
    assert {r["delivery_id"] for r in raw_rows(con, "tax")} == {outcomes[0].delivery_id}
    [o] = ingest_feed(con, FEEDS["residence_permit"], landing)  # other feeds go on
    assert o.status == "loaded"


def test_rejected_resend_under_the_same_date_keeps_the_loaded_one(con, landing):
    write_delivery(landing, "hukou", DAY, [sample_row("hukou")] * 2)
    [first] = ingest_feed(con, FEEDS["hukou"], landing)
    headers = [h if h != "XM" else "NAME" for h in FEEDS["hukou"].headers]
    write_delivery(landing, "hukou", DAY, [{**sample_row("hukou"), "NAME": "x"}], headers=headers)
    [second] = ingest_feed(con, FEEDS["hukou"], landing)
    assert second.status == "rejected" and "expected XM, found 'NAME'" in second.message
    assert {r["delivery_id"] for r in raw_rows(con, "hukou")} == {first.delivery_id}
    assert sorted(r[2] for r in ledger(con, "hukou")) == ["loaded", "rejected"]


def test_deliveries_are_processed_in_date_order(con, landing):
    for day in ("20261130", "20260930", "20261031"):
        write_delivery(landing, "property", day, [sample_row("property")])
    outcomes = ingest_feed(con, FEEDS["property"], landing)
    assert [o.delivery_date for o in outcomes] == sorted(o.delivery_date for o in outcomes)


def test_content_hash_is_stable_and_follows_content(landing):
    folder = write_delivery(landing, "tax", DAY, [sample_row("tax")])
    [a] = complete_deliveries(landing, FEEDS["tax"])
    [b] = complete_deliveries(landing, FEEDS["tax"])
    assert a.content_hash == b.content_hash and len(a.content_hash) == 64
    assert a.delivery_id == f"tax/{DAY}/{a.content_hash[:12]}"
    write_delivery(landing, "tax", DAY, [sample_row("tax", 收入额="1.00")])
    [c] = complete_deliveries(landing, FEEDS["tax"])
    assert c.content_hash != a.content_hash and c.path == folder


# --- a run killed in the middle of a load --------------------------------------------------------------

def _big_hukou(landing: Path, n: int) -> None:
    folder = landing / "hukou" / DAY
    folder.mkdir(parents=True)
    row = sample_row("hukou")
    tail = ",".join(row[h] for h in FEEDS["hukou"].headers[1:])
    body = "".join(f"{330302199000000000 + i},{tail}\n" for i in range(n))
    (folder / "big.csv").write_bytes((",".join(FEEDS["hukou"].headers) + "\n" + body).encode("gb18030"))
    write_manifest(folder, "hukou", DAY, {"big.csv": n})


def test_killed_run_leaves_nothing_half_loaded(tmp_path, landing):
    n = 600_000
    _big_hukou(landing, n)
    db = tmp_path / "kill.duckdb"
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from pipelines.feeds import registry
        from pipelines.lib.duck import connect
        from pipelines.lib.ingest import ingest_feed
        con = connect(Path({str(db)!r}))
        ingest_feed(con, registry().feeds["hukou"], Path({str(landing)!r}),
                    progress=lambda m: print(m, flush=True))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "loading big.csv" in line:
            break
    time.sleep(1.0)
    assert proc.poll() is None, "the load finished before it could be killed: use a bigger file"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    con = connect(db)
    ensure_ops_schema(con)
    # the rows committed before the kill do not count: no ledger row says their delivery is loaded
    assert con.execute("SELECT count(*) FROM ops.deliveries").fetchone() == (0,)
    assert con.execute('SELECT count(*) FROM raw."hukou"').fetchone()[0] < n
    [o] = ingest_feed(con, FEEDS["hukou"], landing)
    assert (o.status, o.rows_received) == ("loaded", n)
    assert con.execute('SELECT count(*), count(DISTINCT source_row) FROM raw."hukou"').fetchone() == (n, n)
    assert [o.status for o in ingest_feed(con, FEEDS["hukou"], landing)] == ["unchanged"]
    con.close()


@pytest.mark.parametrize("feed", ["social_insurance", "hukou"])
def test_rows_of_a_killed_load_never_count_and_are_discarded_by_the_next_load(con, landing, feed):
    """Rows go to raw chunk by chunk (bounded memory) and count once the ledger says 'loaded'."""
    # what a load killed mid-file leaves: committed raw rows of a delivery the ledger does not know
    ensure_ops_schema(con)
    con.execute(f'insert into raw."{feed}" (delivery_id, source_file, source_row) '
                "select $delivery_id, 'f', range from range(5)", {"delivery_id": f"{feed}/20261031/killed"})
    write_delivery(landing, feed, "20261031", [sample_row(feed) for _ in range(3)],
                   extra_lines=[b"not,a,row"] if feed == "hukou" else [b"{not json"])
    ingest_feed(con, registry().feeds[feed], landing)
    assert len(raw_rows(con, feed)) == 3 and len(quarantine(con)) == 1
    assert con.execute(f'select count(*) from raw."{feed}" where delivery_id like \'%killed\'').fetchone() == (0,)
    leftovers = con.execute("select table_name from duckdb_tables() where table_name like '\\_loading%' escape '\\'"
                            ).fetchall()
    assert leftovers == []
