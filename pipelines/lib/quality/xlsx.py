"""A small XLSX (Office Open XML) writer whose big sheets are built by DuckDB: Python only zips the parts.

A sheet is a sequence of `<row>` XML chunks. Large sheets come from SQL (the cell macros `pb_xlsx_text` and
`pb_xlsx_number` of `assets/quality/xlsx_macros.sql`, used by `packet_rows.sql`), aggregated into chunks of
many rows each, so no Python code runs per row; small sheets (a packet's summary) come from `rows_xml`.
Text cells are inline strings (readable by Excel, LibreOffice, openpyxl and calamine).
Styles: 0 normal, 1 bold, 2 text format (@).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

BOLD, TEXT = 1, 2
MAX_CELL_CHARS = 32_767
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


@dataclass
class Sheet:
    """One worksheet: its name, column widths {0-based column: width} and its `<row>` XML in chunks."""

    name: str
    rows: Iterable[str]
    widths: dict[int, float] = field(default_factory=dict)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _text(value: str) -> str:
    cleaned = "".join(c if c >= " " or c in "\t\n\r" else f"_x{ord(c):04X}_" for c in value[:MAX_CELL_CHARS])
    return escape(cleaned, {"\n": "&#10;", "\r": "&#13;"})


def rows_xml(rows: Sequence[Sequence[str | int | None]], styles: Sequence[int] = ()) -> str:
    """`<row>` XML for a few rows held in Python (row 1 first); `styles[c]` styles column c (default 0)."""
    out = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            if value is None:
                continue
            ref = f"{column_letter(c)}{r}"
            style = f' s="{styles[c]}"' if c < len(styles) and styles[c] else ""
            if isinstance(value, int):
                cells.append(f'<c r="{ref}"{style}><v>{value}</v></c>')
            else:
                cells.append(f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">'
                             f"{_text(value)}</t></is></c>")
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    return "".join(out)


def write_xlsx(path: Path, sheets: Sequence[Sheet]) -> None:
    """Write the workbook to `path` (replaced if present); the row chunks are streamed into the zip."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        book.writestr("[Content_Types].xml", (
            f'{_HEAD}<Types xmlns="{_CT}">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>"
        ))
        book.writestr("_rels/.rels", (
            f'{_HEAD}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ))
        entries = "".join(f'<sheet name={quoteattr(s.name)} sheetId="{i}" r:id="rId{i}"/>'
                          for i, s in enumerate(sheets, start=1))
        book.writestr("xl/workbook.xml",
                      f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{entries}</sheets></workbook>')
        rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                       for i in range(1, len(sheets) + 1))
        rels += f'<Relationship Id="rId{len(sheets) + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        book.writestr("xl/_rels/workbook.xml.rels", f'{_HEAD}<Relationships xmlns="{_PKG_REL}">{rels}</Relationships>')
        book.writestr("xl/styles.xml", _STYLES)
        for i, sheet in enumerate(sheets, start=1):
            with book.open(f"xl/worksheets/sheet{i}.xml", "w") as part:
                cols = "".join(f'<col min="{c + 1}" max="{c + 1}" width="{w}" customWidth="1"/>'
                               for c, w in sorted(sheet.widths.items()))
                part.write(f'{_HEAD}<worksheet xmlns="{_MAIN}">'.encode())
                if cols:
                    part.write(f"<cols>{cols}</cols>".encode())
                part.write(b"<sheetData>")
                for chunk in sheet.rows:
                    part.write(chunk.encode())
                part.write(b"</sheetData></worksheet>")
