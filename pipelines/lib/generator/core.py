"""`generate()`: chunked persons → seven feeds × monthly deliveries, defects, manifests and ground truth."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.feeds import Feed, registry
from pipelines.lib.generator import defects as dfx
from pipelines.lib.generator import feeds_build as fb
from pipelines.lib.generator import serialise as ser
from pipelines.lib.generator.population import MARITAL, People, Window, make_people
from pipelines.lib.generator.truth import TruthAccumulator, write_truth_readme
from pipelines.lib.generator.writers import DeliveryWriter, FileStat, write_manifest, write_xlsx

FEEDS = ("hukou", "residence_permit", "education", "social_insurance", "tax", "marriage", "property")
CHUNK_SIZE = 500_000
MAX_PERSONS = 50_000_000


@dataclass
class DeliverySummary:
    """One written delivery."""

    feed: str
    delivery_date: dt.date
    files: list[str]
    rows: int
    bytes: int


@dataclass
class GenerationSummary:
    """What `generate` wrote: per-feed/per-delivery rows and bytes, defects, elapsed time."""

    persons: int
    seed: int
    out: Path
    deliveries: list[DeliverySummary] = field(default_factory=list)
    defects: int = 0
    broken_deliveries: int = 0
    elapsed_seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(d.rows for d in self.deliveries)

    @property
    def bytes(self) -> int:
        return sum(d.bytes for d in self.deliveries)


def month_ends(first: dt.date, months: int) -> list[dt.date]:
    """`months` consecutive month-end dates starting with the month of `first`."""
    out = []
    y, m = first.year, first.month
    for _ in range(months):
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        out.append(nxt - dt.timedelta(days=1))
        y, m = nxt.year, nxt.month
    return out


def _validate(persons: int, seed: int, months: int, first_delivery: dt.date, defect_rate: float) -> None:
    if not isinstance(persons, int) or isinstance(persons, bool) or persons < 1:
        raise ValueError(f"persons must be a whole number >= 1, got {persons!r}")
    if persons > MAX_PERSONS:
        raise ValueError(f"persons must be at most {MAX_PERSONS:,}, got {persons:,}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(months, int) or not 1 <= months <= 24:
        raise ValueError(f"months must be between 1 and 24, got {months!r}")
    if not isinstance(first_delivery, dt.date):
        raise ValueError(f"first_delivery must be a date, got {first_delivery!r}")
    if first_delivery != month_ends(first_delivery, 1)[0]:
        raise ValueError(f"first_delivery must be a month-end date, got {first_delivery.isoformat()}")
    if not 0.0 <= defect_rate <= 0.2:
        raise ValueError(f"defect_rate must be between 0 and 0.2, got {defect_rate!r}")


def generate(
    persons: int,
    seed: int,
    out: Path,
    *,
    months: int = 3,
    first_delivery: dt.date = dt.date(2026, 8, 31),
    defect_rate: float = 0.01,
    delivery_defects: bool = False,
    progress: Callable[[str], None] | None = None,
    defect_rates: Mapping[str, float] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> GenerationSummary:
    """Write synthetic, dirty departmental deliveries for `persons` people plus the ground truth under `out`.

    Deterministic: the same arguments give the same bytes in every file. `defect_rates` overrides the
    probability per row of single defect kinds (see `defects.KINDS`).
    """
    _validate(persons, seed, months, first_delivery, defect_rate)
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    rates = dfx.rates_for(defect_rate, defect_rates)
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reg = registry()
    dates = month_ends(first_delivery, months)
    win = Window([np.datetime64(d.isoformat()) for d in dates])
    for f in FEEDS:  # regenerate cleanly: stale files would break manifests
        for d in dates + month_ends(dates[-1] + dt.timedelta(days=1), 1):
            folder = out / f / d.strftime("%Y%m%d")
            if folder.exists():
                shutil.rmtree(folder)
    writers: dict[tuple[str, int], DeliveryWriter] = {}
    xlsx_rows: dict[int, list[list[object]]] = {}
    for f in FEEDS:
        feed = reg.feeds[f]
        for i, d in enumerate(dates):
            if f == "marriage" and i > 0:
                xlsx_rows[i] = []
                continue
            fmt = "csv" if f == "marriage" else feed.format
            writers[(f, i)] = DeliveryWriter(out, f, feed.kind, d, fmt, feed.encoding, feed.headers)
    truth = TruthAccumulator(out / "_truth", win)
    n_chunks = (persons + chunk_size - 1) // chunk_size
    for ci in range(n_chunks):
        start = ci * chunk_size
        n = min(chunk_size, persons - start)
        p = make_people(np.random.default_rng([seed, ci]), seed, ci, start, n, n_chunks, win)
        truth.begin(p)
        for i, d in enumerate(win.deliveries):
            prev = win.deliveries[i - 1] if i else None
            for fi, f in enumerate(FEEDS):
                feed = reg.feeds[f]
                fc = _build(f, p, d, i, prev, feed.date_format)
                truth.observe(f, fc, i)
                drng = np.random.default_rng([seed, ci, i, fi, 99])
                xlsx = f == "marriage" and i > 0
                fc, inj = dfx.inject(f, fc, p, d, feed.date_format, rates, drng, guarantee=ci == 0, xlsx=xlsx)
                _write(f, feed, fc, inj, p, d, i, writers, xlsx_rows, truth)
        truth.end(p)
        say(f"chunk {ci + 1}/{n_chunks}: {start + n:,} of {persons:,} persons")
    summary = GenerationSummary(persons, seed, out)
    for (f, i), w in sorted(writers.items(), key=lambda kv: (FEEDS.index(kv[0][0]), kv[0][1])):
        w.finish()
        summary.deliveries.append(DeliverySummary(f, dates[i], [x.name for x in w.files],
                                                  sum(x.rows for x in w.files), sum(x.bytes for x in w.files)))
    feed = reg.feeds["marriage"]
    for i, rows in xlsx_rows.items():
        folder = out / "marriage" / dates[i].strftime("%Y%m%d")
        stat = write_xlsx(folder / f"marriage_{dates[i].strftime('%Y%m%d')}.xlsx", feed.sheet or "Sheet1",
                          feed.headers, rows)
        write_manifest(folder, "marriage", dates[i], feed.kind, [stat])
        summary.deliveries.append(DeliverySummary("marriage", dates[i], [stat.name], stat.rows, stat.bytes))
    summary.defects = truth.close()
    write_truth_readme(out / "_truth")
    if delivery_defects:
        from pipelines.lib.generator.broken import write_broken

        summary.broken_deliveries = write_broken(out, seed, win, month_ends(dates[-1] + dt.timedelta(days=1), 1)[0])
    summary.elapsed_seconds = time.perf_counter() - t0
    say(f"done: {summary.rows:,} rows, {summary.bytes / 1e6:,.1f} MB in {summary.elapsed_seconds:,.1f} s")
    return summary


def _build(f: str, p: People, d: np.datetime64, i: int, prev: np.datetime64 | None, fmt: str) -> fb.FeedChunk:
    if f == "hukou":
        return fb.hukou(p, d, fmt)
    if f == "residence_permit":
        return fb.residence_permit(p, d, fmt)
    if f == "education":
        return fb.education(p, d, fmt)
    if f == "social_insurance":
        return fb.social_insurance(p, d, fmt)
    if f == "tax":
        return fb.tax(p, d, i)
    if f == "marriage":
        return fb.marriage(p, d, prev, fmt)
    return fb.property_(p, d, fmt)


def _write(f: str, feed: Feed, fc: fb.FeedChunk, inj: dfx.Injected, p: People, d: np.datetime64, i: int,
           writers: dict[tuple[str, int], DeliveryWriter], xlsx_rows: dict[int, list[list[object]]],
           truth: TruthAccumulator) -> None:
    date = dt.date.fromisoformat(str(d))
    if f == "marriage" and i > 0:
        rows = xlsx_rows[i]
        base, name = len(rows), f"marriage_{date.strftime('%Y%m%d')}.xlsx"
        rows.extend(ser.xlsx_rows(feed, fc))
    else:
        w = writers[(f, i)]
        stat: FileStat = w.current()
        base, name = stat.rows, stat.name
        if w.fmt == "parquet":
            w.write_table(ser.parquet_table(feed, fc))
        elif w.fmt == "jsonl":
            w.write_lines(ser.jsonl_lines(feed, fc, inj.line_edits))
        else:
            w.write_lines(ser.csv_lines(feed, fc, inj.line_edits))
    truth.defects(f, date, name, base, inj)
    if f != "hukou" and f != "residence_permit":
        truth.not_in_backbone(f, date, name, base, fc, p, d)


__all__ = ["MARITAL", "DeliverySummary", "GenerationSummary", "generate", "month_ends", "pa", "pq"]
