"""Department feedback packets: per delivery, one XLSX listing every quarantined row (and, in each feed's
latest delivery, every flag the feed's records in force raise), with the reason in Chinese and English, the
offending value, a suggested correction where one is certain, and the reply deadline (5 working days after
the run date). Every loaded or rejected delivery gets a packet once (`ops.deliveries.feedback_at`), also
when a run catches up on several deliveries of one feed; the latest ones get a fresh packet every run.

The files are for the department and hold its own rows' IDs; callers put only counts and paths into
Dagster metadata.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.feeds import registry
from pipelines.lib.duck import sql_text
from pipelines.lib.files import private_dir
from pipelines.lib.ingest.schema import ensure_ops_schema
from pipelines.lib.quality import xlsx
from pipelines.lib.quality.reasons import FLAGS, REASONS

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


def _prepare_lookups(con: duckdb.DuckDBPyConnection, delivery_id: str, feed: str, with_rows: bool,
                     with_flags: bool) -> None:
    """The temp tables packet_rows.sql reads: reason wording, ID suggestions and the feed's flags."""
    con.execute(sql_text("quality/xlsx_macros.sql"))
    con.execute("create or replace temp table _packet_reasons (code varchar, zh varchar, en varchar)")
    con.executemany("insert into _packet_reasons values (?, ?, ?)",
                    [(code, zh, en) for code, (zh, en) in {**REASONS, **FLAGS}.items()])
    con.execute("create or replace temp table _packet_suggestions "
                "(source_file varchar, source_row bigint, suggestions varchar)")
    if with_rows and _exists(con, "marts", "population_history"):
        con.execute(f"insert into _packet_suggestions {sql_text('quality/id_suggestions.sql')}",
                    {"delivery_id": delivery_id})
    con.execute("create or replace temp table _packet_flags (source_file varchar, source_row bigint, "
                "flag_code varchar, citizen_id varchar, detail varchar)")
    if with_rows and with_flags and _exists(con, "marts", "person_flags"):
        con.execute("insert into _packet_flags select source_file, source_row, flag_code, citizen_id, detail "
                    "from marts.person_flags where feed = ?", [feed])


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> int:
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def _issue_rows(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> Iterator[str]:
    """The issues sheet's <row> XML after the header, in chunks built by DuckDB (packet_rows.sql)."""
    result = con.execute(sql_text("quality/packet_rows.sql"), params)
    while (chunk := result.fetchone()) is not None:
        yield chunk[0]


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


def unreported_deliveries(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, dt.date, str, str | None]]:
    """(delivery_id, feed, delivery_date, status, message): loaded or rejected deliveries that never had a
    packet (a run that catches up on several months of one feed)."""
    return con.execute(
        "select delivery_id, feed, delivery_date, status, message from ops.deliveries "
        "where status in ('loaded', 'rejected') and feedback_at is null order by feed, delivery_date").fetchall()


def write_packet(con: duckdb.DuckDBPyConnection, out_dir: Path, delivery_id: str, feed: str,
                 delivery_date: dt.date, run_date: dt.date, rejection: str | None = None,
                 with_flags: bool = True) -> Packet:
    """Write `<out_dir>/<feed>_<YYYYMMDD>.xlsx` (`…_rejected_<hash>.xlsx` for a rejected delivery) for one
    delivery and return what it holds; `out_dir` exists (`make_feedback_dir`).

    A rejected delivery's packet says why it was refused; it has no rows (nothing of it was loaded).
    `with_flags`: also list the flags the feed's records in force raise (the feed's latest delivery).
    The issues sheet is built set-based by DuckDB (assets/quality/packet_rows.sql); Python zips it.
    """
    deadline = reply_deadline(run_date)
    info = registry().feeds.get(feed)
    _prepare_lookups(con, delivery_id, feed, with_rows=rejection is None, with_flags=with_flags)
    quarantined = _count(con, "select count(*) from ops.quarantine where delivery_id = ?", [delivery_id])
    flags = _count(con, "select count(*) from _packet_flags", [])
    suggestions = _count(con, "select count(*) from _packet_suggestions", [])
    # a rejected delivery can share its feed and date with a loaded one (a re-sent file): its name says so
    suffix = "" if rejection is None else f"_rejected_{delivery_id.rsplit('/', 1)[-1][:6]}"
    path = out_dir / f"{feed}_{delivery_date:%Y%m%d}{suffix}.xlsx"
    dept = f"{info.department_zh} {info.department_en}" if info else feed
    summary = [
        ("部门 department", dept), ("数据集 feed", f"{info.title_zh if info else ''} ({feed})"),
        ("交付 delivery", f"{delivery_id} ({delivery_date.isoformat()})"),
        ("隔离行数 quarantined rows", quarantined), ("一致性标记 flags", flags),
        ("回复截止 reply by", deadline.isoformat()),
        *([("拒收原因 rejected because", f"整批拒收，请更正后重新交付 / rejected whole, deliver again: {rejection}")]
          if rejection is not None else []),
        ("说明 note", "建议更正仅为参考：由单字符更正后校验码正确且存在于户籍/居住登记中的号码得出。"
                      " Suggested corrections are suggestions only: single-character changes that give a valid "
                      "check character and an ID present in hukou or residence registration."),
    ]
    params = {"delivery_id": delivery_id, "max_lines": EXCEL_MAX_ROWS, "reply_by": deadline.isoformat(),
              "text_style": xlsx.TEXT}
    issues = itertools.chain([xlsx.rows_xml([HEADERS], [xlsx.BOLD] * len(HEADERS))], _issue_rows(con, params))
    xlsx.write_xlsx(path, [
        xlsx.Sheet("说明 summary", [xlsx.rows_xml(summary, [xlsx.BOLD])]),
        xlsx.Sheet("问题清单 issues", issues, widths={0: 24, **dict.fromkeys(range(4, 10), 28)}),
    ])
    return Packet(feed, delivery_id, delivery_date, path, quarantined, flags, suggestions, deadline)


def write_packets(con: duckdb.DuckDBPyConnection, warehouse_dir: Path, run_date: dt.date) -> list[Packet]:
    """Under `<warehouse_dir>/feedback/<YYYYMMDD>/`: a packet for each feed's latest delivery (with the
    feed's flags) and for every other delivery that never had one (its quarantined rows, or why it was
    rejected); each delivery written is marked in `ops.deliveries.feedback_at`."""
    ensure_ops_schema(con)  # a working file from older code gains feedback_at
    out_dir = make_feedback_dir(warehouse_dir, run_date)
    latest = latest_deliveries(con)
    latest_ids = {row[0] for row in latest}
    pending = latest + [row for row in unreported_deliveries(con) if row[0] not in latest_ids]
    packets = [write_packet(con, out_dir, did, feed, ddate, run_date, message if status == "rejected" else None,
                            with_flags=did in latest_ids)
               for did, feed, ddate, status, message in sorted(pending, key=lambda row: (row[1], row[2]))]
    con.execute("update ops.deliveries set feedback_at = $now where delivery_id in (select unnest($ids))",
                {"now": dt.datetime.now(), "ids": [p.delivery_id for p in packets]})
    return packets


def feedback_dir(warehouse_dir: Path, run_date: dt.date) -> Path:
    """`<warehouse_dir>/feedback/<YYYYMMDD>/`, where a run's packets and quality report go (nothing created)."""
    return Path(warehouse_dir) / "feedback" / f"{run_date:%Y%m%d}"


def make_feedback_dir(warehouse_dir: Path, run_date: dt.date) -> Path:
    """`feedback_dir`, created closed to other accounts (the packets hold IDs and names), both levels."""
    out_dir = feedback_dir(warehouse_dir, run_date)
    private_dir(out_dir.parent)
    return private_dir(out_dir)
