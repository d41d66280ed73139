"""The benchmark harness: the memory cap of the baseline, its report, the minimal DuckDB script against the
pandas baseline, the month with nothing changed, the snapshot diff and the executor comparison's code location
(benchmarks/pipeline_bench.py, duckdb_minimal.py, snapshot_diff.py, executor_bench.py)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.feeds import registry
from pipelines.lib.generator import generate
from pipelines.lib.ingest import complete_deliveries
from pipelines.lib.ingest.manifest import verify_delivery

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import executor_bench
import pipeline_bench
import snapshot_diff

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
    assert res["cpu_seconds"] >= 0


def test_the_report_says_the_baseline_did_not_finish() -> None:
    full = {"wall_seconds": 636.2, "peak_rss_mb": 4630,
            "stages": {"ingest": {"seconds": 118.3, "peak_rss_mb": 2047}}}
    stopped = {"stopped_at_cap": True, "memory_cap_gb": 16.5, "exit_code": -9, "wall_seconds": 356.6,
               "peak_rss_mb": 16915, "phases": {"read": 318.9}}
    text = "\n".join(pipeline_bench.baseline_markdown(stopped, full, None))
    assert "did not finish: it passed the 16.5 GB cap after 356.6 s (phases finished, s: read 318.9)" in text
    assert "Speed-up" not in text


def test_the_minimal_duckdb_script_gives_the_pandas_baselines_result(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    generate(3_000, 3, gen, months=1, first_delivery=dt.date(2026, 8, 31))
    minimal = pipeline_bench.minimal_run(gen, "20260831", tmp_path / "minimal", "1GB", 1, cap_gb=4)
    assert 0 < minimal["cpu_seconds"] < 60  # the child's own CPU, counted once it has exited
    baseline = pipeline_bench.baseline_run(gen, "20260831", tmp_path / "baseline", cap_gb=4)
    assert minimal["exit_code"] == baseline["exit_code"] == 0
    assert set(minimal["phases"]) == {"decode", "read", "aggregate", "merge", "write"}
    assert minimal["persons_out"] == baseline["persons_out"] > 2_500
    assert not (tmp_path / "minimal" / "minimal_spill").exists()
    con = duckdb.connect()
    for name, path in (("m", tmp_path / "minimal" / "minimal_persons.parquet"),
                       ("p", tmp_path / "baseline" / "baseline_persons.parquet")):
        con.execute(f"create table {name} as select * from read_parquet($path)", {"path": str(path)})
    columns = [c for (c,) in con.execute("select column_name from (describe m)").fetchall()]
    assert columns == [c for (c,) in con.execute("select column_name from (describe p)").fetchall()]
    assert con.execute("select count(*) from m full join p using (citizen_id) "
                       "where m.citizen_id is null or p.citizen_id is null").fetchone() == (0,)
    for column in columns[1:]:  # the readers skip malformed rows differently: a few values may differ
        same = f"m.{column}::varchar is not distinct from p.{column}::varchar"
        if column in ("insured_months", "income_last_12m"):
            same = f"coalesce(abs(m.{column} - p.{column}) < 0.01, m.{column} is null and p.{column} is null)"
        elif column.endswith(("date", "since", "month", "period")):
            same = f"m.{column}::date is not distinct from p.{column}::date"
        share = con.execute(f"select avg(({same})::int) from m join p using (citizen_id)").fetchone()[0]
        assert share > 0.99, column


def test_the_report_sets_the_pipeline_against_the_minimal_script() -> None:
    full = {"wall_seconds": 542.4, "peak_rss_mb": 4596,
            "stages": {"ingest": {"seconds": 111.0}, "standardise": {"seconds": 126.1}, "base": {"seconds": 148.1}}}
    minimal = {"exit_code": 0, "wall_seconds": 180.8, "peak_rss_mb": 4400, "memory_limit": "4GB",
               "phases": {"read": 60.0}, "persons_out": 9_950_000, "rows_in": 52_700_000}
    text = "\n".join(pipeline_bench.minimal_markdown(minimal, full, None))
    assert "| DuckDB pipeline: ingest + standardise + base | 385.2 | – | – | 2.1x |" in text
    assert "| DuckDB pipeline: full run | 542.4 | – | 4,596 | 3.0x |" in text


def test_a_recorded_baseline_counts_only_for_the_same_delivery_set() -> None:
    recorded = {"months": 2, "seed": 1, "baseline": {"wall_seconds": 356.6}}
    assert pipeline_bench.same_delivery_set(recorded, months=2, seed=1)
    assert not pipeline_bench.same_delivery_set(recorded, months=3, seed=1)  # month 1's files differ
    assert not pipeline_bench.same_delivery_set(recorded, months=2, seed=7)


def test_cpu_time_is_attributed_to_a_step_between_samples() -> None:
    cpu = [(0.0, 0.0), (1.0, 2.0), (2.0, 2.0), (3.0, 5.0)]  # (unix time, cumulative CPU seconds)
    assert pipeline_bench.cpu_between(cpu, 0.5, 1.0) == 1.0
    assert pipeline_bench.cpu_between(cpu, 1.0, 2.0) == 0.0
    assert pipeline_bench.cpu_between(cpu, 0.0, 3.0) == 5.0
    assert pipeline_bench.cpu_between(cpu, 2.5, 9.0) == 1.5  # past the last sample: its value
    assert pipeline_bench.cpu_between([], 0.0, 1.0) == 0.0


def test_the_slowest_steps_show_cpu_use_and_tolerate_older_results() -> None:
    hukou = {"step": "raw__hukou", "stage": "ingest", "seconds": 20.0, "cpu_seconds": 22.0, "peak_rss_mb": 1700}
    base = {"step": "marts__population_base", "stage": "base", "seconds": 50.0, "peak_rss_mb": 4600}  # older JSON
    run = {"steps": [hukou, base]}
    lines = pipeline_bench.slowest_steps(run, "full", 12)
    assert lines[-2] == "| marts__population_base | base | 50.0 | – | – | 4,600 |"
    assert lines[-1] == "| raw__hukou | ingest | 20.0 | 22.0 | 110 % | 1,700 |"


def test_an_unchanged_month_redelivers_the_snapshots_byte_for_byte_and_no_events(tmp_path: Path) -> None:
    gen, landing = tmp_path / "gen", tmp_path / "landing"
    generate(2_000, 3, gen, months=1, first_delivery=dt.date(2026, 12, 31))
    new = pipeline_bench.redeliver_unchanged(gen, landing, "20261231")
    assert new == "20270131"
    for feed in registry().feeds.values():
        delivered = complete_deliveries(landing, feed)
        if feed.kind == "events":
            assert delivered == []
            continue
        (candidate,) = delivered
        assert str(candidate.delivery_date) == "2027-01-31"
        verify_delivery(feed, candidate)  # the manifest's checksums still match the linked files
        for path in (gen / feed.name / "20261231").iterdir():
            if path.name != "_MANIFEST.json":
                assert (landing / feed.name / new / path.name).read_bytes() == path.read_bytes()


def test_the_snapshot_diff_finds_no_change_in_an_unchanged_month_and_counts_every_row(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    generate(2_000, 5, gen, months=2, first_delivery=dt.date(2026, 8, 31))
    new = pipeline_bench.redeliver_unchanged(gen, gen, "20260930")
    same = snapshot_diff.measure(gen, "20260930", new, memory_limit="1GB")
    changed = snapshot_diff.measure(gen, "20260831", "20260930", memory_limit="1GB")
    assert set(same) == set(changed) == {"hukou", "residence_permit", "education", "social_insurance", "property"}
    for feed, row in same.items():
        manifest = json.loads((gen / feed / new / "_MANIFEST.json").read_text())
        header = 0 if feed in ("social_insurance", "property") else 1
        assert row["new_rows"] == row["old_rows"] == sum(f["rows"] for f in manifest["files"]) + header
        assert row["new_not_in_old"] == row["old_not_in_new"] == 0
    assert all(row["new_not_in_old"] > 0 for row in changed.values())


def test_the_executor_benchmark_runs_the_same_graph_with_each_executor() -> None:
    jobs = {job.name: job for job in executor_bench.defs.resolve_all_job_defs()}
    for name in executor_bench.EXECUTORS:
        job = jobs[f"executor_bench_{name}"]
        assert job.executor_def.name == name
        assert job.asset_layer.selected_asset_keys == jobs["popbase_full_refresh"].asset_layer.selected_asset_keys


def test_a_run_child_imports_the_pipeline_from_the_code_snapshot(tmp_path: Path) -> None:
    """pipeline_bench measures the commit it copied aside: nothing it imports before choosing the snapshot may
    load `pipelines` from the working tree."""
    snapshot = tmp_path / "code"
    (snapshot / "pipelines").mkdir(parents=True)
    (snapshot / "pipelines" / "__init__.py").write_text("")
    bench = Path(__file__).resolve().parent.parent / "benchmarks"
    probe = (f"import sys; sys.path.insert(0, {str(bench)!r}); sys.argv = ['x', '--_code', {str(snapshot)!r}]; "
             "import pipeline_bench, pipelines; print(pipelines.__file__)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert Path(out.strip()).parent == snapshot / "pipelines"
