"""The same full run through `dagster job execute` with the code location's executor and with Dagster's default.

Runs launched from the UI, the schedules and the sensors go through a job's executor, not through `popbase run`.
Dagster's default, the multiprocess executor, starts a Python process per step, and that process imports Dagster,
Great Expectations and the pipeline before the step does anything. popbase's code location sets the in-process
executor instead (pipelines/definitions.py). This script shows what that choice is worth. It generates one month of
deliveries and runs every asset and check twice on fresh working and warehouse folders: once with the job
`executor_bench_in_process`, once with `executor_bench_multiprocess`. Both are declared here, beside the code
location's own jobs. It records wall and CPU seconds for each and writes
`benchmarks/results/executor_<persons>.{json,md}`.

    .venv/bin/python benchmarks/executor_bench.py --persons 1000000

This file is also the code location that `dagster job execute -f` loads: `defs` below, with the driver under `main`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pipelines.definitions as location  # noqa: E402  (a second Definitions at module scope would be ambiguous)

EXECUTORS = {"in_process": dg.in_process_executor, "multiprocess": dg.multiprocess_executor}


def _job(name: str) -> str:
    return f"executor_bench_{name}"


defs = dg.Definitions.merge(
    location.defs,
    dg.Definitions(jobs=[dg.define_asset_job(_job(name), selection=dg.AssetSelection.all(), executor_def=executor)
                         for name, executor in EXECUTORS.items()]),
)


def _run(name: str, root: Path, env: dict[str, str]) -> dict[str, float | int | str]:
    """One run of `executor_bench_<name>` on fresh working and warehouse folders; wall and CPU seconds."""
    for folder in ("work", "warehouse", "dagster_home"):
        shutil.rmtree(root / folder, ignore_errors=True)
    (root / "dagster_home").mkdir()
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", root / "dagster_home" / "dagster.yaml")
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "job", "execute", "-f", str(Path(__file__).resolve()),
         "-j", _job(name)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    steps = (done.stdout + done.stderr).count(" - STEP_START - ")
    if done.returncode != 0:
        raise SystemExit(f"{_job(name)} failed (exit {done.returncode}); last output:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"executor": name, "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "steps": steps,
            "load_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def _markdown(result: dict) -> str:
    rows = "\n".join(f"| {r['executor']} | {r['wall_seconds']:,} | {r['cpu_seconds']:,} | {r['steps']} | "
                     f"{r['load_1m_before_after'][0]} / {r['load_1m_before_after'][1]} |" for r in result["runs"])
    by = {r["executor"]: r for r in result["runs"]}
    extra = by["multiprocess"]["wall_seconds"] - by["in_process"]["wall_seconds"]
    per_step = extra / max(by["multiprocess"]["steps"], 1)
    return (
        f"# Executor benchmark: {result['persons']:,} persons, one month\n\n"
        f"Machine: {result['machine']}; {result['date']}. Code: head at commit {result['commit']}.\n\n"
        "The same job (every asset and check) through `dagster job execute`, on fresh folders each time.\n\n"
        "| executor | wall s | CPU s | steps | load 1m before / after |\n|---|---:|---:|---:|---|\n" + rows + "\n\n"
        f"The multiprocess executor adds **{extra:,.1f} s** to the run, {per_step:.1f} s per step: each step starts "
        "a Python process that imports Dagster, Great Expectations and the pipeline. The steps that open DuckDB take "
        "turns on the working file (pool `popbase_duckdb`, limit 1), so those processes buy no parallelism. This is "
        "why the code location sets the in-process executor (pipelines/definitions.py).\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--root", type=Path, default=ROOT / "var" / "bench" / "executor")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    root: Path = args.root.resolve()
    landing = root / f"landing_{args.persons}"
    if not landing.is_dir():
        subprocess.run([str(Path(sys.executable).parent / "popbase"), "generate", "--persons", str(args.persons),
                        "--months", "1", "--seed", "1", "--out", str(landing)], check=True)
    env = {**os.environ, "POPBASE_LANDING_DIR": str(landing), "POPBASE_WORK_DIR": str(root / "work"),
           "POPBASE_WAREHOUSE_DIR": str(root / "warehouse"), "DAGSTER_HOME": str(root / "dagster_home"),
           "POPBASE_PSEUDONYM_KEY": os.environ.get("POPBASE_PSEUDONYM_KEY", "executor-bench-" + "0" * 32),
           "GX_ANALYTICS_ENABLED": "false"}
    runs = [_run(name, root, env) for name in EXECUTORS]
    commit = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip() or "unknown"
    result = {"persons": args.persons, "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "commit": commit, "runs": runs,
              "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}, dagster {dg.__version__}"}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"executor_{args.persons}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (args.out / f"executor_{args.persons}.md").write_text(_markdown(result), encoding="utf-8")
    print(_markdown(result))


if __name__ == "__main__":
    main()
