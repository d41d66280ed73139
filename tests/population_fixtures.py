"""Staging-level fixtures for the population layer: typed staging rows inserted directly.

`StagingFixture` creates `ops.deliveries`, `ops.quarantine`, `ref.code_lists`, every `raw.<feed>` and
every `staging.stg_<feed>` table exactly as docs/architecture.md describes them (types from the registry),
so population SQL can be tested case by case without going through files.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import duckdb

from pipelines.feeds import registry, staging_id_column
from pipelines.lib.citizen_id import check_char
from pipelines.lib.duck import run_sql_file
from pipelines.lib.population import build_population
from pipelines.settings import load_settings

SQL_TYPES = {
    "citizen_id": "varchar",
    "id_number": "varchar",
    "text": "varchar",
    "name": "varchar",
    "code": "varchar",
    "sex": "varchar",
    "date": "date",
    "year_month": "date",
    "integer": "bigint",
    "amount": "decimal(18,2)",
    "share": "double",
}


def make_id(region: str = "330302", birth: str = "19900101", seq: int = 123) -> str:
    """A valid 18-character citizen ID (odd seq = man, even = woman)."""
    first17 = f"{region}{birth}{seq:03d}"
    return first17 + check_char(first17)


class StagingFixture:
    """An in-memory working database with staging tables to fill row by row."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        run_sql_file(self.con, "ingest/ops_schema.sql")  # the real ledger and quarantine (ops, raw schemas)
        self.con.execute("create schema staging; create schema ref")
        self.con.execute("create table ref.code_lists (list_name varchar, code varchar, label varchar)")
        reg = registry()
        self.con.executemany(
            "insert into ref.code_lists values (?, ?, ?)",
            [(name, code, label) for name, codes in reg.code_lists.items() for code, label in codes.items()],
        )
        self.columns: dict[str, list[str]] = {}
        for feed in reg.feeds.values():
            cols = []
            for c in feed.columns:
                cols.append((c.name, SQL_TYPES[c.type]))
                if c.type == "id_number":
                    cols.append((staging_id_column(c), "varchar"))
            self.columns[feed.name] = [n for n, _ in cols]
            body = ", ".join(f'"{n}" {t}' for n, t in cols)
            self.con.execute(
                f'create table staging."stg_{feed.name}" (delivery_id varchar, delivery_date date, '
                f"source_file varchar, source_row bigint, {body})"
            )
            raw_body = ", ".join(f'"{c.name}" varchar' for c in feed.columns)
            self.con.execute(
                f'create table raw."{feed.name}" (delivery_id varchar, source_file varchar, source_row bigint, '
                f"{raw_body})"
            )
        self.rows = 0

    def delivery(self, feed: str, date: str) -> str:
        delivery_id = f"{feed}/{date.replace('-', '')}/fixture"
        self.con.execute(
            "insert into ops.deliveries (delivery_id, feed, delivery_date, content_hash, status, rows_received, "
            "rows_loaded, rows_duplicate, rows_quarantined, staged_at) "
            "values (?, ?, ?, 'fixture', 'loaded', 0, 0, 0, 0, now()) "
            "on conflict do nothing",
            [delivery_id, feed, date],
        )
        return delivery_id

    def add(self, feed: str, date: str = "2026-10-31", **values: Any) -> None:
        """One staging row of `feed` in the delivery of `date` (columns by canonical name)."""
        unknown = set(values) - set(self.columns[feed])
        if unknown:
            raise KeyError(f"{feed} has no columns {sorted(unknown)}")
        delivery_id = self.delivery(feed, date)
        self.rows += 1
        names = ["delivery_id", "delivery_date", "source_file", "source_row", *values]
        self.con.execute(
            f'insert into staging."stg_{feed}" ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)}) '
            f"values ({', '.join('?' for _ in names)})",
            [delivery_id, date, f"{feed}.csv", self.rows, *values.values()],
        )

    def quarantined(self, feed: str, reason_code: str, date: str = "2026-10-31", **values: Any) -> None:
        """A delivered row of `feed` that staging put in quarantine: in `raw.<feed>` (as text) and
        `ops.quarantine`, not in staging."""
        delivery_id = self.delivery(feed, date)
        self.rows += 1
        names = ["delivery_id", "source_file", "source_row", *values]
        self.con.execute(
            f'insert into raw."{feed}" ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)}) '
            f"values ({', '.join('?' for _ in names)})",
            [delivery_id, f"{feed}.csv", self.rows, *(None if v is None else str(v) for v in values.values())],
        )
        self.con.execute(
            "insert into ops.quarantine (delivery_id, feed, delivery_date, source_file, source_row, reason_code) "
            "values (?, ?, ?, ?, ?, ?)",
            [delivery_id, feed, date, f"{feed}.csv", self.rows, reason_code],
        )

    def hukou(self, citizen_id: str, date: str = "2026-10-31", **values: Any) -> None:
        row = {
            "citizen_id": citizen_id,
            "name": "张三",
            "sex": None,
            "household_no": "H1",
            "relation_code": "02",
            "hukou_district_code": "330302",
            "person_status": "0",
        }
        self.add("hukou", date, **{**row, **values})

    def tax(self, citizen_id: str, period: str, amount: str, date: str = "2026-10-31", **values: Any) -> None:
        """One wage row withheld for a citizen in income period `period` (YYYY-MM-01)."""
        row = {
            "id_type": "居民身份证",
            "id_number": citizen_id,
            "citizen_id": citizen_id,
            "name": "张三",
            "income_period": dt.date.fromisoformat(period),
            "income_item": "工资薪金所得",
            "income_amount": Decimal(amount),
            "agent_credit_code": "A",
            "tax_office_district_code": "330302",
        }
        self.add("tax", date, **{**row, **values})

    def build(self, reference_date: str = "2026-10-31") -> dict[str, Any]:
        return build_population(self.con, load_settings({"POPBASE_REFERENCE_DATE": reference_date}))

    def person(self, citizen_id: str) -> dict[str, Any]:
        cur = self.con.execute("select * from marts.population_base where citizen_id = ?", [citizen_id])
        row = cur.fetchone()
        assert row is not None, "person not in the base"
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    def flags(self, code: str) -> list[str]:
        return [
            r[0]
            for r in self.con.execute(
                "select citizen_id from marts.person_flags where flag_code = ? order by all", [code]
            ).fetchall()
        ]


def date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
