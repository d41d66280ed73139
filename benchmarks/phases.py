"""What the two reference scripts (pandas_baseline.py, duckdb_minimal.py) share: the month's delivery files of a
feed, and the time per phase, printed as "<phase>: <seconds> s" lines, the form pipeline_bench.run_capped reads."""

from __future__ import annotations

import time
from pathlib import Path


def delivery_files(landing: Path, feed: str, date: str, suffix: str) -> list[Path]:
    """The data files of one delivery folder (`<landing>/<feed>/<date>/*<suffix>`), sorted."""
    return sorted((landing / feed / date).glob(f"*{suffix}"))


class Phases:
    """Seconds per phase, each measured from the end of the one before (a phase named twice adds up)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._since = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(self.seconds.get(name, 0) + now - self._since, 1)
        self._since = now
        print(f"{name}: {self.seconds[name]} s", flush=True)
