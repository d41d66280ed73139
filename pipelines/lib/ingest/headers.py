"""Header check: the delivered columns must be exactly the registry's headers (order may differ)."""

from __future__ import annotations

import re

from pipelines.feeds import Feed
from pipelines.lib.ingest.models import DeliveryRejected

LOOKS_PERSONAL = re.compile(r"\d{6,}")


def _show(header: str) -> str:
    """A delivered header as quoted in a message; anything looking like an ID is masked."""
    return "<masked: looks like data>" if LOOKS_PERSONAL.search(header) else repr(header)


def normalise_header(header: str) -> str:
    """Strip a byte-order mark and surrounding whitespace from a delivered header."""
    return header.lstrip("\ufeff").strip()


def check_header(feed: Feed, source_file: str, found: list[str], *, ordered: bool = True) -> list[str]:
    """Return the canonical column names in delivered order, or raise DeliveryRejected naming the columns.

    A header with exactly the same number of unknown and missing columns at the same positions is
    reported as renames ("expected X, found Y"). `ordered=False` (JSON keys) skips the rename pairing.
    """
    found = [normalise_header(h) for h in found]
    expected = feed.headers
    by_header = {c.header: c.name for c in feed.columns}
    dups = sorted({h for h in found if found.count(h) > 1})
    missing = [h for h in expected if h not in found]
    unknown = [h for h in found if h not in by_header]
    if not dups and not missing and not unknown:
        return [by_header[h] for h in found]
    if not set(found) & set(expected):
        raise DeliveryRejected(
            f"file {source_file}: the first line is not the header of feed {feed.name} "
            f"(none of its {len(expected)} columns found, {len(found)} fields); expected "
            + ", ".join(expected)
        )
    parts: list[str] = []
    if ordered:
        renames = [(e, f) for e, f in zip(expected, found, strict=False) if e in missing and f in unknown]
        for e, f in renames:
            parts.append(f"expected {e}, found {_show(f)}")
            missing.remove(e)
            unknown.remove(f)
    if missing:
        parts.append("missing column(s) " + ", ".join(missing))
    if unknown:
        parts.append("unknown column(s) " + ", ".join(_show(u) for u in unknown))
    if dups:
        parts.append("duplicated column(s) " + ", ".join(_show(d) for d in dups))
    raise DeliveryRejected(f"file {source_file}: header does not match feed {feed.name}: " + "; ".join(parts))
