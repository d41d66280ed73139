"""Stream a text file as UTF-8 chunks of whole lines, recording every undecodable byte sequence.

Chunks are cut after a newline byte. That is safe for every supported encoding: in UTF-8 and in
GB18030 the byte 0x0A only ever encodes U+000A, never part of a multibyte character. Each chunk is
decoded with an incremental decoder whose error handler replaces bad bytes with U+FFFD and records
their offset, so the rows holding them can be quarantined with the exact line and byte offset.
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

    data: bytes
    first_line: int
    bad: list[BadBytes] = field(default_factory=list)


def iter_text_chunks(path: Path, encoding: str, chunk_bytes: int = CHUNK_BYTES) -> Iterator[TextChunk]:
    """Yield the file as UTF-8 chunks of whole lines; a BOM at the start is dropped."""
    codec = "gb18030" if encoding == "gb18030" else "utf-8"
    decoder = codecs.getincrementaldecoder("utf-8-sig" if codec == "utf-8" else codec)(_ERRORS)
    line = 1
    offset = 0
    carry = b""
    with path.open("rb") as fh:
        while True:
            block = fh.read(chunk_bytes)
            final = not block
            raw = carry + block
            if not final:
                cut = raw.rfind(b"\n") + 1
                if cut == 0:
                    carry = raw
                    continue
                raw, carry = raw[:cut], raw[cut:]
            else:
                carry = b""
            if raw:
                yield _decode_chunk(decoder, codec, raw, line, offset, final)
                line += raw.count(b"\n")
                offset += len(raw)
            if final:
                return


def _decode_chunk(decoder: codecs.IncrementalDecoder, codec: str, raw: bytes, line: int, offset: int,
                  final: bool) -> TextChunk:
    _local.errors = []
    text = decoder.decode(raw, final)
    errors, _local.errors = _local.errors, []
    chunk = TextChunk(text.encode("utf-8"), line)
    seen: set[int] = set()
    for start, end in errors:  # a loop over the (few) bad byte ranges only
        line_idx = raw.count(b"\n", 0, start)
        if line_idx in seen:
            continue
        seen.add(line_idx)
        line_start = raw.rfind(b"\n", 0, start) + 1
        line_end = raw.find(b"\n", start)
        raw_line = raw[line_start: len(raw) if line_end < 0 else line_end]
        text_line = raw_line.decode(codec, "replace").rstrip("\r")
        chunk.bad.append(BadBytes(line + line_idx, offset + start, start - line_start,
                                  raw[start:min(end, start + 8)].hex(" "), text_line))
    return chunk

