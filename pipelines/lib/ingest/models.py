"""Value objects of ingestion: a complete delivery found on disk, and what became of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

OutcomeStatus = Literal["loaded", "rejected", "unchanged", "replaced"]


class DeliveryRejected(Exception):
    """A delivery does not follow the spec; the message names the file and the difference.

    Messages never contain citizen IDs or names: they quote file names, column headers, counts
    and checksums only.
    """


@dataclass(frozen=True)
class DeliveryCandidate:
    """A complete delivery folder (its `_MANIFEST.json` exists), identified by its content hash."""

    feed: str
    delivery_date: dt.date
    path: Path
    content_hash: str
    manifest_problem: str | None = None

    @property
    def delivery_id(self) -> str:
        """`<feed>/<YYYYMMDD>/<first 12 hex of content_hash>`, the ledger key."""
        return f"{self.feed}/{self.delivery_date:%Y%m%d}/{self.content_hash[:12]}"


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one run did with one delivery (no personal data in `message`)."""

    delivery_id: str
    feed: str
    delivery_date: dt.date
    status: OutcomeStatus
    rows_received: int = 0
    rows_malformed: int = 0
    message: str = ""
    seconds: float = 0.0
    bytes: int = 0
    reused_from: str | None = None  # the earlier delivery with the same data whose rows were copied


@dataclass
class FileResult:
    """Counts for one data file after it was read into raw/quarantine."""

    name: str
    rows_received: int = 0
    rows_malformed: int = 0
    bytes: int = 0
    extra: dict[str, int] = field(default_factory=dict)
