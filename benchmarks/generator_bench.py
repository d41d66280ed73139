"""Benchmark the synthetic delivery generator: wall time, peak RSS, rows and bytes written.

    .venv/bin/python benchmarks/generator_bench.py --persons 1000000 [--persons 10000000] --out var/bench

Writes benchmarks/results/generator.json and generator.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import psutil
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.lib.generator import generate

RESULTS = Path(__file__).resolve().parent / "results"


class PeakRss:
    """Samples this process's resident set size in a background thread."""

    def __init__(self, interval: float = 0.05) -> None:
        self.proc = psutil.Process()
        self.peak = 0
        self.interval = interval
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(self.interval)

    def __enter__(self) -> PeakRss:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def run(persons: int, out: Path, months: int, seed: int, keep: bool) -> dict:
    target = out / f"p{persons}"
    if target.exists():
        shutil.rmtree(target)
    with PeakRss() as rss:
        t0 = time.perf_counter()
        summary = generate(persons, seed, target, months=months, progress=lambda m: print(m, flush=True))
        wall = time.perf_counter() - t0
    by_feed: dict[str, dict[str, int]] = {}
    for d in summary.deliveries:
        e = by_feed.setdefault(d.feed, {"rows": 0, "bytes": 0})
        e["rows"] += d.rows
        e["bytes"] += d.bytes
    result = {
        "persons": persons, "months": months, "seed": seed, "wall_seconds": round(wall, 1),
        "peak_rss_mb": round(rss.peak / 2**20), "rows": summary.rows, "bytes": summary.bytes,
        "mb_per_second": round(summary.bytes / 2**20 / wall, 1), "defects": summary.defects, "by_feed": by_feed,
        "deliveries": [{"feed": d.feed, "date": d.delivery_date.isoformat(), "rows": d.rows, "bytes": d.bytes,
                        "files": len(d.files)} for d in summary.deliveries],
    }
    if not keep:
        shutil.rmtree(target)
    return result


def machine() -> dict:
    return {
        "cores": os.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(), "platform": platform.platform(),
        "numpy": np.__version__, "pyarrow": pa.__version__, "duckdb": duckdb.__version__,
    }


def markdown(results: list[dict], env: dict) -> str:
    lines = [
        "# Generator benchmark", "",
        f"Machine: {env['cores']} cores, {env['ram_gb']} GiB RAM, Python {env['python']}, numpy {env['numpy']}, "
        f"pyarrow {env['pyarrow']}, duckdb {env['duckdb']} ({env['platform']}).", "",
        "| persons | months | wall s | peak RSS MB | rows | GB written | MB/s |", "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['persons']:,} | {r['months']} | {r['wall_seconds']} | {r['peak_rss_mb']:,} | "
                     f"{r['rows']:,} | {r['bytes'] / 1e9:.2f} | {r['mb_per_second']} |")
    for r in results:
        lines += ["", f"## {r['persons']:,} persons: per feed (all deliveries)", "", "| feed | rows | MB |",
                  "|---|---|---|"]
        lines += [f"| {f} | {v['rows']:,} | {v['bytes'] / 2**20:,.1f} |" for f, v in r["by_feed"].items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, action="append", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--months", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()
    env = machine()
    results = [run(p, args.out, args.months, args.seed, args.keep) for p in args.persons]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "generator.json").write_text(json.dumps({"machine": env, "results": results}, indent=1))
    (RESULTS / "generator.md").write_text(markdown(results, env))
    print(markdown(results, env))


if __name__ == "__main__":
    main()
