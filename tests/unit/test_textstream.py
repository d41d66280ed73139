"""Chunked decoding: lines stay whole across chunks, bad bytes are found at their exact line and offset."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from pipelines.lib.ingest.textstream import is_utf8, iter_text_chunks


def _lines(path: Path, encoding: str, chunk_bytes: int) -> tuple[list[str], list[tuple[int, int, str]]]:
    text, bad = "", []
    for chunk in iter_text_chunks(path, encoding, chunk_bytes=chunk_bytes):
        assert chunk.first_line == text.count("\n") + 1
        text += bytes(chunk.data).decode("utf-8")
        bad += [(b.line_no, b.file_offset, b.hex) for b in chunk.bad]
    return text.splitlines(), bad


@pytest.mark.parametrize("chunk_bytes", [7, 64, 1 << 20])
def test_utf8_with_bom_and_a_bad_byte(tmp_path: Path, chunk_bytes: int) -> None:
    lines = [f"{i},张三{i}" for i in range(20)]
    body = "\n".join(lines).encode("utf-8") + b"\n"
    bad_at = body.index("张三7".encode()) + 3  # inside line 8, after the first character
    data = codecs.BOM_UTF8 + body[:bad_at] + b"\xff" + body[bad_at:]
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    got, bad = _lines(path, "utf-8-sig", chunk_bytes)
    assert got[0] == "0,张三0" and len(got) == 20  # the BOM is gone
    assert got[7] == "7,张\ufffd三7"
    assert bad == [(8, len(codecs.BOM_UTF8) + bad_at, "ff")]  # offset counts the file's own bytes


def test_valid_utf8_is_passed_through_unchanged(tmp_path: Path) -> None:
    body = "".join(f'{{"k":"温州{i}"}}\r\n' for i in range(100)).encode("utf-8")
    path = tmp_path / "f.jsonl"
    path.write_bytes(body)
    chunks = list(iter_text_chunks(path, "utf-8", chunk_bytes=100))
    assert b"".join(bytes(c.data) for c in chunks) == body
    assert all(bytes(c.data).endswith(b"\n") for c in chunks)


def test_gb18030_bad_bytes_are_recorded(tmp_path: Path) -> None:
    good = "姓名,地址\n王五,温州市鹿城区\n".encode("gb18030")
    path = tmp_path / "f.csv"
    path.write_bytes(good + b"\x81\x20,x\n")
    got, bad = _lines(path, "gb18030", 1 << 20)
    assert got[:2] == ["姓名,地址", "王五,温州市鹿城区"]
    assert bad == [(3, len(good), "81")]


@pytest.mark.parametrize("chunk_bytes", [50, 1 << 20])
def test_only_the_lines_with_bad_bytes_are_decoded_again(tmp_path: Path, chunk_bytes: int) -> None:
    """Bad lines are found by halving; the text and records equal a whole-file decode with replacement."""
    lines = [f"{i},温州{i}".encode() for i in range(300)]
    bad_lines = {3: b"\xff", 150: b"\xed\xa0\x80", 151: b"\xc0\x80", 298: b"\xe4\xb8"}  # surrogate, overlong, cut
    for i, junk in bad_lines.items():
        lines[i] = lines[i][:2] + junk + lines[i][2:]
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    got, bad = _lines(path, "utf-8", chunk_bytes)
    assert got == data.decode("utf-8", "replace").splitlines()
    expected = []
    for i in sorted(bad_lines):
        with pytest.raises(UnicodeDecodeError) as error:
            lines[i].decode("utf-8")
        first = lines[i][error.value.start:min(error.value.end, error.value.start + 8)]
        expected.append((i + 1, sum(len(line) + 1 for line in lines[:i]) + 2, first.hex(" ")))
    assert bad == expected


@pytest.mark.parametrize("data", [b"ok", "温州".encode(), b"\xff", b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80",
                                  "温州".encode()[:-1]])
def test_is_utf8_follows_pythons_strict_decoder(data: bytes) -> None:
    try:
        data.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    assert is_utf8(data) is valid


def test_a_file_in_the_wrong_encoding_has_every_line_recorded_once(tmp_path: Path) -> None:
    """GB18030 bytes read as UTF-8: bad bytes on every line, each line recorded once at its first bad range."""
    lines = [f"{i},温州市鹿城区{i}".encode("gb18030") for i in range(2000)]
    path = tmp_path / "f.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    got, bad = _lines(path, "utf-8", 1 << 20)
    assert got == [line.decode("utf-8", "replace") for line in lines]
    expected = []
    for i, line in enumerate(lines):
        with pytest.raises(UnicodeDecodeError) as error:
            line.decode("utf-8")
        first = line[error.value.start:min(error.value.end, error.value.start + 8)]
        expected.append((i + 1, sum(len(x) + 1 for x in lines[:i]) + error.value.start, first.hex(" ")))
    assert bad == expected
