"""The benchmark harness stops a run past its memory cap and says what it finished (benchmarks/pipeline_bench.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import pipeline_bench

GROW = "print('read: 1.5 s', flush=True); block = bytearray(400 * 2**20); import time; time.sleep(60)"


def test_a_run_past_its_cap_is_stopped_with_the_phases_it_finished() -> None:
    res = pipeline_bench.run_capped([sys.executable, "-c", GROW], cap_gb=0.25)
    assert res["stopped_at_cap"] and res["exit_code"] != 0
    assert res["phases"] == {"read": 1.5}
    assert res["peak_rss_mb"] > 256 and res["wall_seconds"] < 30


def test_a_run_within_its_cap_finishes() -> None:
    res = pipeline_bench.run_capped([sys.executable, "-c", "print('read: 0.1 s'); print('merge: 2 s')"], cap_gb=4)
    assert not res["stopped_at_cap"] and res["exit_code"] == 0
    assert res["phases"] == {"read": 0.1, "merge": 2.0}


def test_the_report_says_the_baseline_did_not_finish() -> None:
    full = {"wall_seconds": 636.2, "peak_rss_mb": 4630,
            "stages": {"ingest": {"seconds": 118.3, "peak_rss_mb": 2047}}}
    stopped = {"stopped_at_cap": True, "memory_cap_gb": 16.5, "exit_code": -9, "wall_seconds": 356.6,
               "peak_rss_mb": 16915, "phases": {"read": 318.9}}
    text = "\n".join(pipeline_bench.baseline_markdown(stopped, full, None))
    assert "did not finish: it passed the 16.5 GB cap after 356.6 s (phases finished, s: read 318.9)" in text
    assert "Speed-up" not in text


def test_a_recorded_baseline_counts_only_for_the_same_delivery_set() -> None:
    recorded = {"months": 2, "seed": 1, "baseline": {"wall_seconds": 356.6}}
    assert pipeline_bench.same_delivery_set(recorded, months=2, seed=1)
    assert not pipeline_bench.same_delivery_set(recorded, months=3, seed=1)  # month 1's files differ
    assert not pipeline_bench.same_delivery_set(recorded, months=2, seed=7)
