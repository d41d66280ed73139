"""Stream a text file as UTF-8 chunks of whole lines, recording every undecodable byte sequence.

Chunks are cut after a newline byte. That is safe for every supported encoding: in UTF-8 and in
GB18030 the byte 0x0A only ever encodes U+000A, never part of a multibyte character, so each chunk
decodes on its own. A UTF-8 chunk that is valid passes through as read. Otherwise the chunk is decoded
with an error handler that replaces bad bytes with U+FFFD and records their offset, so the rows
holding them can be quarantined with the exact line and byte offset.
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CHUNK_BYTES = 8 << 20
_ERRORS = "popbase-record"
_local = threading.local()

ENCODING_LABEL = {"gb18030": "GB18030", "utf-8": "UTF-8", "utf-8-sig": "UTF-8"}


def _record(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: note the bad byte range, continue after it with one U+FFFD."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _local.errors.append((exc.start, exc.end))
    return "\ufffd", exc.end


codecs.register_error(_ERRORS, _record)


@dataclass(frozen=True)
class BadBytes:
    """Undecodable bytes on one physical line (1-based line number counting the header)."""

    line_no: int
    file_offset: int
    line_offset: int
    hex: str
    text: str

    def detail(self, encoding: str) -> str:
        """Clerk-readable explanation (bytes as hex only, never the decoded text)."""
        label = ENCODING_LABEL.get(encoding, encoding)
        return (f"bytes not valid {label} at byte offset {self.file_offset} of the file "
                f"(byte {self.line_offset + 1} of line {self.line_no}: {self.hex}); "
                f"re-export the file in {label}")


@dataclass
class TextChunk:
    """UTF-8 bytes of whole physical lines starting at line `first_line` (1-based)."""

    data: bytes | bytearray
    first_line: int
    bad: list[BadBytes] = field(default_factory=list)


def iter_text_chunks(path: Path, encoding: str, chunk_bytes: int = CHUNK_BYTES) -> Iterator[TextChunk]:
    """Yield the file as UTF-8 chunks of whole lines; a UTF-8 BOM at the start is dropped.

    Each chunk is read into a buffer of its own (consumers may keep it), cut after its last newline;
    the rest carries over to the next chunk.
    """
    codec = "gb18030" if encoding == "gb18030" else "utf-8"
    line = 1
    offset = 0
    carry = b""
    with path.open("rb") as fh:
        while True:
            raw = bytearray(len(carry) + chunk_bytes)
            raw[: len(carry)] = carry
            got = fh.readinto(memoryview(raw)[len(carry):])
            final = got == 0
            del raw[len(carry) + got:]
            if not final:
                cut = raw.rfind(b"\n") + 1
                if cut == 0:
                    carry = bytes(raw)
                    continue
                carry = bytes(raw[cut:])
                del raw[cut:]
            else:
                carry = b""
            if raw:
                size = len(raw)
                yield _decode_chunk(codec, raw, line, offset)
                line += raw.count(b"\n")
                offset += size
            if final:
                return


def _decode_chunk(codec: str, raw: bytearray, line: int, offset: int) -> TextChunk:
    """The chunk as UTF-8. Valid UTF-8 is passed through as read (the BOM at the file's start removed);
    anything else is decoded with bad byte ranges replaced by U+FFFD and recorded."""
    skip = 3 if codec == "utf-8" and offset == 0 and raw.startswith(codecs.BOM_UTF8) else 0
    if codec == "utf-8":
        try:
            raw.decode("utf-8")  # validation only: the common case keeps the bytes as they are
        except UnicodeDecodeError:
            pass
        else:
            del raw[:skip]
            return TextChunk(raw, line)
    _local.errors = []
    text = codecs.decode(memoryview(raw)[skip:], codec, _ERRORS)
    errors, _local.errors = _local.errors, []
    chunk = TextChunk(text.encode("utf-8"), line)
    seen: set[int] = set()
    for error_start, error_end in errors:  # a loop over the (few) bad byte ranges only
        start, end = error_start + skip, error_end + skip
        line_idx = raw.count(b"\n", 0, start)
        if line_idx in seen:
            continue
        seen.add(line_idx)
        line_start = raw.rfind(b"\n", 0, start) + 1
        line_end = raw.find(b"\n", start)
        raw_line = bytes(raw[line_start: len(raw) if line_end < 0 else line_end])
        text_line = raw_line.decode(codec, "replace").rstrip("\r")
        chunk.bad.append(BadBytes(line + line_idx, offset + start, start - line_start,
                                  raw[start:min(end, start + 8)].hex(" "), text_line))
    return chunk
