"""The CSV row-number prefix: every non-blank physical line gets `<10-digit data row number>,`."""

from __future__ import annotations

import pytest

from pipelines.lib.ingest.csv_reader import prefix_rows


def _reference(data: bytes, first_line: int) -> bytes:
    """Line by line: the row number is the physical line number − 1 (the header is line 1)."""
    out = []
    for i, line in enumerate(data.split(b"\n")):
        ends_file = i == data.count(b"\n")
        blank = line in (b"", b"\r") and not (ends_file and line == b"\r")
        out.append(line if blank or (ends_file and not line) else b"%010d," % (first_line - 1 + i) + line)
    return b"\n".join(out)


@pytest.mark.parametrize("data", [b"a,b\n1,2\n", b"a\n\nb\r\n\r\nc", b"\n\n", b"x", "温州,鹿城\r\n,\n".encode(), b"\r"])
@pytest.mark.parametrize("first_line", [1, 9_999_990])
def test_prefix_rows_numbers_every_non_blank_line(data: bytes, first_line: int) -> None:
    assert prefix_rows(data, first_line) == _reference(data, first_line)
