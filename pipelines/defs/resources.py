"""The resources every asset uses: the private working DuckDB file and the run settings."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.lib.duck import DEFAULT_MEMORY_LIMIT, connect
from pipelines.lib.files import private_dir
from pipelines.settings import Settings, load_settings


class WorkDuckDB(dg.ConfigurableResource):
    """The pipeline's private working DuckDB file, opened with bounded memory and always closed.

    Unlike dagster-duckdb's resource, the connection is closed on an exception too, so a failed step
    never leaves the file locked for the next one.
    """

    database: str
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    temp_directory: str = ""
    threads: int = 0
    lock_wait_seconds: float = 120.0

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the file; while another process holds it (DuckDB allows one), wait up to `lock_wait_seconds`.

        The pool `popbase_duckdb` already serialises the pipeline's steps; the wait covers what it cannot:
        a slot claim racing on SQLite instance storage, or someone holding the file in a DuckDB shell."""
        private_dir(Path(self.database).parent)
        deadline = time.monotonic() + self.lock_wait_seconds
        pause = 0.2
        while True:
            try:
                con = connect(
                    self.database,
                    memory_limit=self.memory_limit,
                    temp_directory=Path(self.temp_directory) if self.temp_directory else None,
                    threads=self.threads or None,
                )
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 5.0)
        try:
            yield con
        finally:
            con.close()


class PopbaseSettings(dg.ConfigurableResource):
    """Directories, reference date and pseudonym key of a run (from POPBASE_* by default)."""

    landing_dir: str
    warehouse_dir: str
    work_dir: str
    reference_date: str = ""
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int = 0
    keep_snapshots: int = 2
    keep_event_months: int = 0

    def settings(self) -> Settings:
        """The run settings; the pseudonym key is read from the environment only, never from config."""
        env = {
            "POPBASE_PSEUDONYM_KEY": os.environ.get("POPBASE_PSEUDONYM_KEY", ""),
            "POPBASE_LANDING_DIR": self.landing_dir,
            "POPBASE_WAREHOUSE_DIR": self.warehouse_dir,
            "POPBASE_WORK_DIR": self.work_dir,
            "POPBASE_REFERENCE_DATE": self.reference_date,
            "POPBASE_MEMORY_LIMIT": self.memory_limit,
            "POPBASE_THREADS": str(self.threads) if self.threads else "",
            "POPBASE_KEEP_SNAPSHOTS": str(self.keep_snapshots),
            "POPBASE_KEEP_EVENT_MONTHS": str(self.keep_event_months) if self.keep_event_months else "",
        }
        return load_settings(env)


def resources_from_settings(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The resource dict for a run with these settings (used by definitions, the CLI and tests)."""
    return {
        "duckdb": WorkDuckDB(
            database=str(settings.work_db),
            memory_limit=settings.memory_limit,
            temp_directory=str(settings.temp_dir),
            threads=settings.threads,
        ),
        "popbase": PopbaseSettings(
            landing_dir=str(settings.landing_dir),
            warehouse_dir=str(settings.warehouse_dir),
            work_dir=str(settings.work_dir),
            reference_date=settings.reference_date.isoformat() if settings.reference_date else "",
            memory_limit=settings.memory_limit,
            threads=settings.threads,
            keep_snapshots=settings.keep_snapshots,
            keep_event_months=settings.keep_event_months or 0,
        ),
    }
