"""Run settings from the environment (POPBASE_*), validated with messages a user can act on."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pipelines.feeds import PROJECT_ROOT
from pipelines.lib.duck import DEFAULT_MEMORY_LIMIT

MEMORY_SIZE = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)
# The base reads the 12 income periods up to the reference date's month: fewer months of events cannot be kept.
MIN_KEEP_EVENT_MONTHS = 12


class SettingsError(ValueError):
    """A POPBASE_* setting is missing or wrong; the message says which and what to do."""


@dataclass(frozen=True)
class Settings:
    """Where the pipeline reads, works and publishes, and how it is bounded."""

    landing_dir: Path
    warehouse_dir: Path
    work_dir: Path
    reference_date: dt.date | None
    pseudonym_key: str | None
    memory_limit: str
    threads: int
    keep_snapshots: int = 2
    keep_event_months: int | None = None

    @property
    def as_of_date(self) -> dt.date:
        """The date the checks judge against (quality rules, IDs' birth dates, the late list):
        POPBASE_REFERENCE_DATE, or else today. The population itself defaults to the latest delivery."""
        return self.reference_date or dt.date.today()

    @property
    def work_db(self) -> Path:
        """The private working DuckDB file; analysts never open it."""
        return self.work_dir / "work.duckdb"

    @property
    def temp_dir(self) -> Path:
        return self.work_dir / "duckdb_tmp"

    @property
    def population_file(self) -> Path:
        return self.warehouse_dir / "population.duckdb"

    @property
    def analyst_file(self) -> Path:
        return self.warehouse_dir / "analyst.duckdb"


def _parse_date(name: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise SettingsError(f"{name}={value!r} is not a date; write it as YYYY-MM-DD") from exc


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read POPBASE_* variables; defaults put everything under the project's `var/` folder."""
    env = dict(os.environ if env is None else env)
    var = PROJECT_ROOT / "var"
    warehouse = Path(env.get("POPBASE_WAREHOUSE_DIR") or var / "warehouse")
    ref = env.get("POPBASE_REFERENCE_DATE") or None
    memory_limit = env.get("POPBASE_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
    if not MEMORY_SIZE.match(memory_limit):
        raise SettingsError(f"POPBASE_MEMORY_LIMIT={memory_limit!r} is not a size; write it like 4GB or 6000MB")
    threads = env.get("POPBASE_THREADS") or str(os.cpu_count() or 2)
    if not threads.isdigit() or int(threads) < 1:
        raise SettingsError(f"POPBASE_THREADS={threads!r} must be a positive whole number")
    keep = env.get("POPBASE_KEEP_SNAPSHOTS") or "2"
    if not keep.isdigit() or int(keep) < 1:
        raise SettingsError(
            f"POPBASE_KEEP_SNAPSHOTS={keep!r} must be a whole number of at least 1 (snapshot deliveries per feed "
            "whose rows the working file keeps)"
        )
    keep_events = env.get("POPBASE_KEEP_EVENT_MONTHS") or None
    if keep_events is not None and (not keep_events.isdigit() or int(keep_events) < MIN_KEEP_EVENT_MONTHS):
        raise SettingsError(
            f"POPBASE_KEEP_EVENT_MONTHS={keep_events!r} must be a whole number of at least {MIN_KEEP_EVENT_MONTHS} "
            "(months of events kept before the reference date's month; leave it unset to keep every event)"
        )
    return Settings(
        landing_dir=Path(env.get("POPBASE_LANDING_DIR") or var / "landing"),
        warehouse_dir=warehouse,
        work_dir=Path(env.get("POPBASE_WORK_DIR") or var / "work"),
        reference_date=_parse_date("POPBASE_REFERENCE_DATE", ref) if ref else None,
        pseudonym_key=env.get("POPBASE_PSEUDONYM_KEY") or None,
        memory_limit=memory_limit,
        threads=int(threads),
        keep_snapshots=int(keep),
        keep_event_months=int(keep_events) if keep_events is not None else None,
    )
