"""The packet XLSX writer: cells built in SQL and in Python read back as written (calamine), parts well-formed."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import python_calamine

from pipelines.lib.duck import sql_text
from pipelines.lib.quality import xlsx

VALUES = ["张三", "a & b <c> \"d\" 'e'", "line1\nline2\r\nline3", "  padded  ", "tab\there", "买买提·艾力",
          "33030219900101123X", "0012", "x" * 40_000, "bell\x07vt\x0b"]


def _sql_rows(values: list[str]) -> list[str]:
    con = duckdb.connect()
    con.execute(sql_text("quality/xlsx_macros.sql"))
    rows = con.execute(
        "select '<row r=\"' || n || '\">' || concat(pb_xlsx_text('A', n, v, 2), pb_xlsx_number('B', n, n), "
        "pb_xlsx_text('C', n, null, 0)) || '</row>' from (select unnest($v) as v, generate_subscripts($v, 1) as n) "
        "order by n", {"v": values}).fetchall()
    return [r[0] for r in rows]


def test_sql_and_python_cells_read_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    python_rows = xlsx.rows_xml([[v, i] for i, v in enumerate(VALUES, start=1)], [xlsx.BOLD])
    xlsx.write_xlsx(path, [xlsx.Sheet("说明 summary", [python_rows]),
                           xlsx.Sheet("问题清单 issues", iter(_sql_rows(VALUES)), widths={0: 24})])

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["说明 summary", "问题清单 issues"]
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python()
        # control characters travel as Excel's _xHHHH_ escapes and come back; long text is cut to Excel's limit
        assert [r[0] for r in rows] == [v[: xlsx.MAX_CELL_CHARS] for v in VALUES]
        assert [int(r[1]) for r in rows] == list(range(1, len(VALUES) + 1))
    with zipfile.ZipFile(path) as z:
        for part in z.namelist():
            ElementTree.fromstring(z.read(part))  # every part is well-formed XML


def test_column_letters() -> None:
    assert [xlsx.column_letter(i) for i in (0, 10, 25, 26, 27, 701, 702)] == ["A", "K", "Z", "AA", "AB", "ZZ", "AAA"]
