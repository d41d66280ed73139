"""Department feedback packets: per delivery, one XLSX listing every quarantined row and every flag
the feed's records raised, with the reason in Chinese and English, the offending value, a suggested
correction where one is certain, and the reply deadline (5 working days after the run date).

The files are for the department and hold its own rows' IDs; callers put only counts and paths into
Dagster metadata.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import xlsxwriter

from pipelines.feeds import registry
from pipelines.lib.duck import sql_text
from pipelines.lib.quality.reasons import describe

REPLY_WORKING_DAYS = 5
EXCEL_MAX_ROWS = 1_048_575
HEADERS = ["来源文件 source file", "行号 row", "类别 kind", "原因代码 reason code", "原因 reason (中文)",
           "reason (English)", "字段 column", "问题值 offending value", "建议更正（仅供参考）suggested correction",
           "说明 detail", "回复截止 reply by"]


@dataclass(frozen=True)
class Packet:
    """One written packet: where it is and how many lines it holds (no personal data)."""

    feed: str
    delivery_id: str
    delivery_date: dt.date
    path: Path
    quarantined: int
    flags: int
    suggestions: int
    deadline: dt.date


def reply_deadline(run_date: dt.date, working_days: int = REPLY_WORKING_DAYS) -> dt.date:
    """`working_days` working days after `run_date`, skipping Saturdays and Sundays."""
    day, left = run_date, working_days
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute(
        "select count(*) from (select schema_name, table_name from duckdb_tables() union all "
        "select schema_name, view_name from duckdb_views()) where schema_name = ? and table_name = ?",
        [schema, table]).fetchone()[0])


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    rows = con.execute("select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
                       [schema, table]).fetchall()
    return {r[0] for r in rows}


def _suggestions(con: duckdb.DuckDBPyConnection, delivery_id: str) -> dict[tuple[str, int], str]:
    backbone = [f"select citizen_id from staging.stg_{f} where citizen_id is not null"
                for f in ("hukou", "residence_permit") if _exists(con, "staging", f"stg_{f}")]
    if not backbone:
        return {}
    sql = sql_text("quality/id_suggestions.sql").replace("__BACKBONE__", " union ".join(backbone))
    rows = con.execute(sql, {"delivery_id": delivery_id}).fetchall()
    return {(r[0], int(r[1])): r[2] for r in rows}


def _quarantine_rows(con: duckdb.DuckDBPyConnection, delivery_id: str) -> list[tuple[Any, ...]]:
    return con.execute(
        "select source_file, source_row, reason_code, column_name, offending_value, detail from ops.quarantine "
        "where delivery_id = ? order by source_file, source_row", [delivery_id]).fetchall()


def _flag_rows(con: duckdb.DuckDBPyConnection, feed: str) -> list[tuple[Any, ...]]:
    if not _exists(con, "marts", "person_flags"):
        return []
    cols = _columns(con, "marts", "person_flags")
    src = "source_file" if "source_file" in cols else "null::varchar"
    row = "source_row" if "source_row" in cols else "null::bigint"
    return con.execute(
        f"select {src}, {row}, flag_code, citizen_id, detail from marts.person_flags where feed = ? "
        f"order by {src} nulls last, {row} nulls last, flag_code", [feed]).fetchall()


def latest_deliveries(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, dt.date, str, str | None]]:
    """(delivery_id, feed, delivery_date, status, message): each feed's latest loaded delivery, and any
    rejected delivery dated after it (the department must hear why it was refused)."""
    return con.execute(
        "with latest as (select feed, max(delivery_date) as loaded_date from ops.deliveries "
        "where status = 'loaded' group by feed) "
        "select d.delivery_id, d.feed, d.delivery_date, d.status, d.message from ops.deliveries as d "
        "left join latest as l on l.feed = d.feed "
        "where (d.status = 'loaded' and d.delivery_date = l.loaded_date) "
        "or (d.status = 'rejected' and d.delivery_date > coalesce(l.loaded_date, date '0001-01-01')) "
        "order by d.feed, d.delivery_date").fetchall()


def write_packet(con: duckdb.DuckDBPyConnection, out_dir: Path, delivery_id: str, feed: str,
                 delivery_date: dt.date, run_date: dt.date, rejection: str | None = None) -> Packet:
    """Write `<out_dir>/<feed>_<YYYYMMDD>.xlsx` for one delivery and return what it holds.

    A rejected delivery's packet says why it was refused; it has no rows (nothing of it was loaded).
    """
    deadline = reply_deadline(run_date)
    info = registry().feeds.get(feed)
    suggestions = _suggestions(con, delivery_id) if rejection is None else {}
    quarantined = _quarantine_rows(con, delivery_id)
    flags = _flag_rows(con, feed) if rejection is None else []
    path = out_dir / f"{feed}_{delivery_date:%Y%m%d}.xlsx"
    out_dir.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    bold = book.add_format({"bold": True})
    text = book.add_format({"num_format": "@"})
    summary = book.add_worksheet("说明 summary")
    dept = f"{info.department_zh} {info.department_en}" if info else feed
    for i, (k, v) in enumerate([
        ("部门 department", dept), ("数据集 feed", f"{info.title_zh if info else ''} ({feed})"),
        ("交付 delivery", f"{delivery_id} ({delivery_date.isoformat()})"),
        ("隔离行数 quarantined rows", len(quarantined)), ("一致性标记 flags", len(flags)),
        ("回复截止 reply by", deadline.isoformat()),
        *([("拒收原因 rejected because", f"整批拒收，请更正后重新交付 / rejected whole, deliver again: {rejection}")]
          if rejection is not None else []),
        ("说明 note", "建议更正仅为参考：由单字符更正后校验码正确且存在于户籍/居住登记中的号码得出。"
                      " Suggested corrections are suggestions only: single-character changes that give a valid "
                      "check character and an ID present in hukou or residence registration."),
    ]):
        summary.write(i, 0, k, bold)
        summary.write(i, 1, v)
    sheet = book.add_worksheet("问题清单 issues")
    for c, h in enumerate(HEADERS):
        sheet.write(0, c, h, bold)
    n = 0
    lines = [("quarantine 隔离", f, r, code, col, val, suggestions.get((f, int(r))) if r is not None else None, d)
             for f, r, code, col, val, d in quarantined]
    lines += [("flag 标记", f, r, code, "citizen_id", cid, None, d) for f, r, code, cid, d in flags]
    for kind, f, r, code, col, val, sugg, detail in lines[:EXCEL_MAX_ROWS]:
        n += 1
        zh, en = describe(code)
        values = [f, r, kind, code, zh, en, col, val, f"建议 suggestion: {sugg}" if sugg else None, detail,
                  deadline.isoformat()]
        for c, v in enumerate(values):
            if v is None:
                continue
            if c in (1,):
                sheet.write_number(n, c, int(v))
            else:
                sheet.write_string(n, c, str(v), text if c == 7 else None)
    sheet.set_column(0, 0, 24)
    sheet.set_column(4, 9, 28)
    book.close()
    return Packet(feed, delivery_id, delivery_date, path, len(quarantined), len(flags), len(suggestions), deadline)


def write_packets(con: duckdb.DuckDBPyConnection, warehouse_dir: Path, run_date: dt.date) -> list[Packet]:
    """One packet per feed's latest delivery under `<warehouse_dir>/feedback/<YYYYMMDD>/`."""
    out_dir = feedback_dir(warehouse_dir, run_date)
    return [write_packet(con, out_dir, did, feed, ddate, run_date, message if status == "rejected" else None)
            for did, feed, ddate, status, message in latest_deliveries(con)]


def feedback_dir(warehouse_dir: Path, run_date: dt.date) -> Path:
    return Path(warehouse_dir) / "feedback" / f"{run_date:%Y%m%d}"
