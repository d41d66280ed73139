"""Table-driven tests of the value macros (assets/macros/10_text.sql, 30_values.sql)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from pipelines.lib.staging import install_macros
from pipelines.lib.staging_sql import PARSERS, PREPARE

D = dt.date


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    install_macros(c)
    return c


def _one(con: duckdb.DuckDBPyConnection, macro: str, value: str | None) -> object:
    row = con.execute(f"SELECT {macro}($v)", {"v": value}).fetchone()
    assert row is not None
    return row[0]


def _parsed(con: duckdb.DuckDBPyConnection, field_type: str, value: str | None) -> object:
    """A delivered value of `field_type` prepared and parsed as staging does (PREPARE, then PARSERS)."""
    prepared = f"{PREPARE[field_type]}($v)"
    parser = PARSERS[field_type]
    row = con.execute(f"SELECT {parser}({prepared})" if parser else f"SELECT {prepared}", {"v": value}).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.parametrize(("raw", "expected"), [
    ("20240101", D(2024, 1, 1)),
    ("2024-01-01", D(2024, 1, 1)),
    ("2024/1/1", D(2024, 1, 1)),
    ("2024/01/01", D(2024, 1, 1)),
    ("2024年1月1日", D(2024, 1, 1)),
    ("2024.1.1", D(2024, 1, 1)),
    ("45292", D(2024, 1, 1)),
    ("45292.0", D(2024, 1, 1)),
    ("45292.75", D(2024, 1, 1)),
    ("2024-01-01 00:00:00", D(2024, 1, 1)),
    ("2024-01-01T08:30:00", D(2024, 1, 1)),
    ("２０２４－０１－０１", D(2024, 1, 1)),
    (" 2024-01-01\t", D(2024, 1, 1)),
    ("19990230", None),
    ("2024-02-30", None),
    ("2024-13-01", None),
    ("0202-01-01", None),
    ("2024011", None),
    ("abc", None),
    ("60", None),
    ("", None),
    (None, None),
])
def test_parse_date(con: duckdb.DuckDBPyConnection, raw: str | None, expected: dt.date | None) -> None:
    assert _parsed(con, "date", raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("2024-01", D(2024, 1, 1)),
    ("202401", D(2024, 1, 1)),
    ("2024/01", D(2024, 1, 1)),
    ("2024年1月", D(2024, 1, 1)),
    ("2024-1", D(2024, 1, 1)),
    ("2024-12-31", D(2024, 12, 1)),
    ("2024-13", None),
    ("20241", None),
    ("", None),
])
def test_parse_year_month(con: duckdb.DuckDBPyConnection, raw: str, expected: dt.date | None) -> None:
    assert _parsed(con, "year_month", raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("12345.67", Decimal("12345.67")),
    ("12,345.67", Decimal("12345.67")),
    ("１２，３４５．６７", Decimal("12345.67")),
    ("  12,345.67 ", Decimal("12345.67")),
    ("¥12,345.67", Decimal("12345.67")),
    ("￥100", Decimal("100.00")),
    ("-5", Decimal("-5.00")),
    ("0.005", Decimal("0.01")),
    ("1,234,567", Decimal("1234567.00")),
    ("12,34", None),
    ("1,2345", None),
    ("abc", None),
    ("12.3.4", None),
    ("", None),
])
def test_parse_amount(con: duckdb.DuckDBPyConnection, raw: str, expected: Decimal | None) -> None:
    assert _parsed(con, "amount", raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("120", 120), ("１２０", 120), ("1,200", 1200), ("12.0", 12), (" 7 ", 7), ("12.5", None), ("x", None), ("", None),
])
def test_parse_integer(con: duckdb.DuckDBPyConnection, raw: str, expected: int | None) -> None:
    assert _parsed(con, "integer", raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("50%", 0.5), ("1/2", 0.5), ("0.5", 0.5), ("０.５", 0.5), ("．５", 0.5), ("100%", 1.0), ("1", 1.0),
    ("1/3", 1 / 3), ("33.3%", 0.333), ("0", None), ("0%", None), ("150%", None), ("3/2", None), ("1/0", None),
    ("50", None), ("abc", None), ("", None),
])
def test_parse_share(con: duckdb.DuckDBPyConnection, raw: str, expected: float | None) -> None:
    got = _parsed(con, "share", raw)
    assert got == pytest.approx(expected) if expected is not None else got is None


@pytest.mark.parametrize(("raw", "expected"), [
    ("1", "男"), ("男", "男"), (" 2 ", "女"), ("女", "女"), ("１", "男"), ("3", None), ("M", None), ("", None),
])
def test_parse_sex(con: duckdb.DuckDBPyConnection, raw: str, expected: str | None) -> None:
    assert _parsed(con, "sex", raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    (" 01 ", "01"), ("０１", "01"), ("\u3000农业\t", "农业"), ("", None), ("  ", None), (None, None),
])
def test_code_text(con: duckdb.DuckDBPyConnection, raw: str | None, expected: str | None) -> None:
    assert _parsed(con, "code", raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("  张三 ", "张三"), ("\u3000阿依古丽·买买提\u3000", "阿依古丽·买买提"), ("张　三", "张　三"), ("", None),
    ("\t张三", "张三"), ("张三\r\n", "张三"), ("\n张三", "张三"), ("\u00a0张三", "张三"), ("张三\u00a0", "张三"),
    ("张三\u3000", "张三"), (" \u3000\u00a0\t", None), ("张三", "张三"), ("\u00a0", None),
])
def test_trim_keeps_inner_content(con: duckdb.DuckDBPyConnection, raw: str, expected: str | None) -> None:
    assert _one(con, "pb_trim", raw) == expected


def test_code_lists_loaded_from_registry(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        "SELECT count(*) FILTER (list_name = 'wenzhou_county'), count(*) FILTER (list_name = 'ethnicity') "
        "FROM ref.code_lists"
    ).fetchone()
    assert row == (12, 56)


def test_install_macros_is_idempotent(con: duckdb.DuckDBPyConnection) -> None:
    install_macros(con)
    install_macros(con)
    row = con.execute("SELECT count(*) FROM ref.regions WHERE code = '330383' AND first_year = 2019").fetchone()
    assert row == (1,)
