"""Benchmark the whole pipeline at city scale: a full run, then a monthly run, per stage time and peak RSS.

    .venv/bin/python benchmarks/pipeline_bench.py --persons 1000000 [--persons 10000000] [--months 2] \
        [--workdir var/bench] [--baseline]

For each size: generate the delivery set with the project's generator (reused when `_bench_params.json` in
`<workdir>/gen_p<N>_m<M>_s<S>` says the same parameters), build a landing dir of symlinks to the first month's
delivery folders, run the asset graph in a fresh subprocess (`run_all`, in-process executor, a DAGSTER_HOME
instance under the run dir so the event log can be read back); then add the second month's folders and run
again on the same work dir (the monthly run). With `--baseline`, the naive pandas version of the core result
(benchmarks/pandas_baseline.py) runs on the same first-month files in its own subprocess; with `--minimal`, the
same result as one DuckDB script (benchmarks/duckdb_minimal.py, the issue's "minimal single-script DuckDB version
of the job") with the pipeline's memory limit.

After each monthly run (outside its timing), the previous and the new published `population_base` are compared
column by column (benchmarks/base_churn.py): how many persons' rows a month really changes.

`--runs …,unchanged` adds one more monthly run in which nothing changed: the last month's snapshot deliveries
delivered again byte for byte, dated the next month end, and no event deliveries. It is the cheapest month this
design can have, so it bounds what any real month (the issue's "about 1 % of rows changed") can cost.

Per run: STEP_START/STEP_SUCCESS timestamps from `instance.all_logs(run_id)`, RSS of the run process sampled
every 0.2 s and attributed to the step running at that instant, the load average (the machine is shared),
rows/s and MB/s of ingest and staging per feed (rows from ops.deliveries, bytes from the delivery files).

Writes benchmarks/results/pipeline_<N>.json, pipeline_<N>.md and the combined pipeline.md.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from base_churn import base_churn, churn_markdown

# No `pipelines` import above this line or in the modules imported here: a run child imports the pipeline from
# the code snapshot under test, which only the sys.path entry below puts first.
ROOT = Path(__file__).resolve().parent.parent
if "--_code" in sys.argv:  # a run child: import the pipeline from the code snapshot under test
    sys.path.insert(0, sys.argv[sys.argv.index("--_code") + 1])
else:
    sys.path.insert(0, str(ROOT))

RESULTS = Path(__file__).resolve().parent / "results"
BENCH_KEY = "popbase-benchmark-pseudonym-key-not-a-secret-0123456789"
STAGES = ["ingest", "standardise", "base", "flags", "checks", "publish", "report", "retention"]
FEEDS = ["hukou", "residence_permit", "education", "social_insurance", "tax", "marriage", "property"]
MB = 2**20
UNITS = "Memory, spill and file sizes in MB are MiB (2^20 bytes); delivery sets in GB are 10^9 bytes."


# --------------------------------------------------------------------------------------------- sampling
class Sampler:
    """Samples RSS and CPU time (process + children), load average and the spill directory size in a thread.

    Samples are (unix time, rss bytes) and (unix time, CPU seconds so far); they are attributed to steps
    afterwards from the event log times.
    """

    def __init__(self, interval: float = 0.2, spill_dir: Path | None = None, pid: int | None = None) -> None:
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.spill_dir = spill_dir
        self.samples: list[tuple[float, int]] = []
        self.cpu: list[tuple[float, float]] = []
        self.loads: list[tuple[float, float]] = []
        self.spill_peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        try:
            total = self.proc.memory_info().rss
            for c in self.proc.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += c.memory_info().rss
            return total
        except psutil.Error:
            return 0

    def cpu_seconds(self) -> float:
        try:
            times = [self.proc.cpu_times()]
            for c in self.proc.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    times.append(c.cpu_times())
            return sum(t.user + t.system for t in times)
        except psutil.Error:
            return self.cpu[-1][1] if self.cpu else 0.0

    def _spill(self) -> int:
        if not self.spill_dir or not self.spill_dir.is_dir():
            return 0
        total = 0
        for p in self.spill_dir.rglob("*"):
            with contextlib.suppress(OSError):
                total += p.stat().st_size
        return total

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            now = time.time()
            self.samples.append((now, self.rss()))
            self.cpu.append((now, self.cpu_seconds()))
            if n % 25 == 0:  # every 5 s
                self.loads.append((now, os.getloadavg()[0]))
                self.spill_peak = max(self.spill_peak, self._spill())
            n += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.samples.append((time.time(), self.rss()))
        self.cpu.append((time.time(), self.cpu_seconds()))


def cpu_between(cpu: list[tuple[float, float]], start: float, end: float) -> float:
    """CPU seconds used between two instants, interpolated linearly between the cumulative samples."""

    def at(t: float) -> float:
        if not cpu:
            return 0.0
        i = bisect.bisect_left(cpu, (t, -1.0))
        if i == 0:
            return cpu[0][1]
        if i == len(cpu):
            return cpu[-1][1]
        (t0, c0), (t1, c1) = cpu[i - 1], cpu[i]
        return c0 + (c1 - c0) * (t - t0) / (t1 - t0) if t1 > t0 else c1

    return max(0.0, at(end) - at(start))


def stage_of(step_key: str) -> tuple[str, str | None]:
    """(stage, feed) of a Dagster step key of this code location (asset checks: `<asset step>_gx_<suite>`)."""
    if "_gx_" in step_key or step_key.startswith(("gx_", "quality__")):
        return "checks", None
    if step_key.startswith("raw__"):
        return "ingest", step_key.removeprefix("raw__")
    if step_key.startswith("staging__"):
        return "standardise", step_key.removeprefix("staging__stg_")
    if step_key == "marts__person_flags":
        return "flags", None
    if step_key.startswith(("intermediate__", "marts__")):
        return "base", None
    if step_key == "published__warehouse_files":
        return "publish", None
    if step_key == "published__population_report":
        return "report", None
    if step_key in ("published__snapshot_retention", "published__event_retention"):
        return "retention", None
    return "other", None


def restage(run: dict) -> dict:
    """(Re)derive each step's stage and the per-stage totals from the step list."""
    stages: dict[str, dict] = {}
    for s in run["steps"]:
        s["stage"] = stage_of(s["step"])[0]
        st = stages.setdefault(s["stage"], {"seconds": 0.0, "peak_rss_mb": 0, "steps": 0})
        st["seconds"] = round(st["seconds"] + s["seconds"], 2)
        st["peak_rss_mb"] = max(st["peak_rss_mb"], s["peak_rss_mb"])
        st["steps"] += 1
    run["stages"] = stages
    return run


# --------------------------------------------------------------------------------------------- one run
def delivery_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file() and p.name != "_MANIFEST.json")


def one_run(
    run_dir: Path,
    label: str,
    new_dates: list[str],
    memory_limit: str,
    threads: int,
    keep_snapshots: int,
    keep_event_months: int | None,
) -> dict:
    """One `run_all` in this process (called in a fresh subprocess); returns the measurements."""
    os.environ["DAGSTER_HOME"] = str(run_dir / "dagster_home")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ["POPBASE_PSEUDONYM_KEY"] = BENCH_KEY
    (run_dir / "dagster_home").mkdir(parents=True, exist_ok=True)
    (run_dir / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    import dagster as dg
    import duckdb

    from pipelines.runner import run_all
    from pipelines.settings import Settings

    settings = Settings(
        landing_dir=run_dir / "landing", warehouse_dir=run_dir / "warehouse", work_dir=run_dir / "work",
        reference_date=None, pseudonym_key=BENCH_KEY, memory_limit=memory_limit, threads=threads,
        keep_snapshots=keep_snapshots, keep_event_months=keep_event_months,
    )
    previous = run_dir / "previous_population.duckdb"  # the file this run's publish replaces
    previous.unlink(missing_ok=True)
    if settings.population_file.exists():
        os.link(settings.population_file, previous)
    load_before = os.getloadavg()
    cpu0 = psutil.Process().cpu_times()
    sys_cpu0 = psutil.cpu_times()
    t0 = time.time()
    with Sampler(spill_dir=settings.temp_dir) as sampler:
        result = run_all(settings, log_level="WARNING")
    t1 = time.time()
    cpu1 = psutil.Process().cpu_times()
    sys_cpu1 = psutil.cpu_times()
    load_after = os.getloadavg()

    instance = dg.DagsterInstance.get()
    steps: dict[str, dict] = {}
    for entry in instance.all_logs(result.run_id):
        ev = entry.dagster_event
        if ev is None or not entry.step_key:
            continue
        s = steps.setdefault(entry.step_key, {"step": entry.step_key})
        if ev.event_type_value == "STEP_START":
            s["start"] = entry.timestamp
        elif ev.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            s["end"] = entry.timestamp
            s["status"] = ev.event_type_value
        elif ev.event_type_value == "STEP_SKIPPED":
            s["status"] = "STEP_SKIPPED"
    step_list = sorted((s for s in steps.values() if "start" in s and "end" in s), key=lambda s: s["start"])
    samples = sampler.samples
    for s in step_list:
        stage, feed = stage_of(s["step"])
        s["stage"], s["feed"] = stage, feed
        s["seconds"] = round(s["end"] - s["start"], 2)
        peak = 0
        for ts, rss in samples:
            if s["start"] <= ts <= s["end"]:
                peak = max(peak, rss)
        s["peak_rss_mb"] = round(peak / MB)
        s["cpu_seconds"] = round(cpu_between(sampler.cpu, s["start"], s["end"]), 1)
    in_steps = sum(s["end"] - s["start"] for s in step_list)

    # rows and bytes of the deliveries new in this run
    con = duckdb.connect(str(settings.work_db), read_only=True, config={"autoinstall_known_extensions": False})
    try:
        rows = con.execute(
            "select feed, strftime(delivery_date, '%Y%m%d'), status, rows_received, rows_loaded, rows_duplicate, "
            "rows_quarantined from ops.deliveries"
        ).fetchall()
        tables = {}
        for schema, table, est in con.execute(
            "select schema_name, table_name, estimated_size from duckdb_tables() order by 1, 2"
        ).fetchall():
            tables[f"{schema}.{table}"] = est
    finally:
        con.close()
    feeds: dict[str, dict] = {}
    for feed, date, status, received, loaded, dup, quar in rows:
        if date not in new_dates or status == "superseded":
            continue
        f = feeds.setdefault(feed, {"rows_received": 0, "rows_loaded": 0, "rows_duplicate": 0,
                                    "rows_quarantined": 0, "bytes": 0, "deliveries": 0,
                                    "status": []})
        f["rows_received"] += received or 0
        f["rows_loaded"] += loaded or 0
        f["rows_duplicate"] += dup or 0
        f["rows_quarantined"] += quar or 0
        f["bytes"] += delivery_bytes(settings.landing_dir / feed / date)
        f["deliveries"] += 1
        f["status"].append(status)
    for feed, f in feeds.items():
        ing = next((s for s in step_list if s["step"] == f"raw__{feed}"), None)
        stg = next((s for s in step_list if s["step"] == f"staging__stg_{feed}"), None)
        if ing:
            f["ingest_seconds"] = ing["seconds"]
            f["ingest_rows_per_s"] = round(f["rows_received"] / max(ing["seconds"], 1e-3))
            f["ingest_mb_per_s"] = round(f["bytes"] / MB / max(ing["seconds"], 1e-3), 1)
            f["ingest_peak_rss_mb"] = ing["peak_rss_mb"]
        if stg:
            f["staging_seconds"] = stg["seconds"]
            f["staging_rows_per_s"] = round(f["rows_received"] / max(stg["seconds"], 1e-3))
            f["staging_peak_rss_mb"] = stg["peak_rss_mb"]

    stages: dict[str, dict] = {}
    for s in step_list:
        st = stages.setdefault(s["stage"], {"seconds": 0.0, "peak_rss_mb": 0, "steps": 0})
        st["seconds"] = round(st["seconds"] + s["seconds"], 2)
        st["peak_rss_mb"] = max(st["peak_rss_mb"], s["peak_rss_mb"])
        st["steps"] += 1
    user = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    sys_busy = sum(getattr(sys_cpu1, k) - getattr(sys_cpu0, k) for k in ("user", "system", "nice", "irq", "softirq"))
    wall = t1 - t0
    sizes = {}
    for p in (settings.work_db, settings.population_file, settings.analyst_file):
        sizes[p.name] = round(p.stat().st_size / MB) if p.exists() else None
    loads = [v for _, v in sampler.loads]
    churn = None
    if previous.exists():
        churn = base_churn(previous, settings.population_file, memory_limit=memory_limit,
                           temp_directory=settings.temp_dir)
        previous.unlink()
    import pipelines

    return {
        "label": label,
        "pipelines_module": str(Path(pipelines.__file__).parent),
        "run_id": result.run_id,
        "wall_seconds": round(wall, 1),
        "in_steps_seconds": round(in_steps, 1),
        "orchestration_seconds": round(wall - in_steps, 1),
        "peak_rss_mb": round(max(r for _, r in samples) / MB),
        "process_cpu_seconds": round(user, 1),
        "machine_busy_cpu_seconds": round(sys_busy, 1),
        "other_processes_cpu_seconds": round(max(sys_busy - user, 0), 1),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
        "loadavg_1m_max": round(max(loads), 2) if loads else None,
        "loadavg_1m_mean": round(sum(loads) / len(loads), 2) if loads else None,
        "spill_peak_mb": round(sampler.spill_peak / MB),
        "file_mb": sizes,
        "stages": stages,
        "feeds": feeds,
        "steps": [{k: s[k] for k in ("step", "stage", "seconds", "cpu_seconds", "peak_rss_mb")} for s in step_list],
        "table_rows": {k: v for k, v in tables.items() if k.startswith(("marts.", "staging.", "raw."))},
        "base_churn": churn,
    }


# --------------------------------------------------------------------------------------------- driver
def generated(persons: int, months: int, seed: int, workdir: Path) -> tuple[Path, dict]:
    """The delivery set for these parameters, generated unless already complete."""
    from pipelines.lib.generator import generate

    target = workdir / f"gen_p{persons}_m{months}_s{seed}"
    params_file = target / "_bench_params.json"
    params = {"persons": persons, "months": months, "seed": seed}
    if params_file.exists():
        stored = json.loads(params_file.read_text())
        if stored.get("params") == params:
            print(f"reusing {target}", flush=True)
            return target, stored["generation"]
    if target.exists():
        shutil.rmtree(target)
    t0 = time.perf_counter()
    summary = generate(persons, seed, target, months=months, progress=lambda m: print(m, flush=True))
    gen = {"seconds": round(time.perf_counter() - t0, 1), "rows": summary.rows, "bytes": summary.bytes}
    params_file.write_text(json.dumps({"params": params, "generation": gen}))
    return target, gen


def same_delivery_set(recorded: dict, months: int, seed: int) -> bool:
    """Whether recorded results ran on the delivery set these arguments generate.

    The generator's first month depends on the number of months generated (its files differ between a two- and
    a three-month set), so a baseline measured on one set is not comparable with runs on another.
    """
    return (recorded.get("months"), recorded.get("seed")) == (months, seed)


def month_dates(gen: Path) -> list[str]:
    return sorted({d.name for f in FEEDS for d in (gen / f).iterdir() if d.is_dir() and d.name.isdigit()})


def link_month(gen: Path, landing: Path, date: str) -> list[str]:
    linked = []
    for feed in FEEDS:
        src = gen / feed / date
        if src.is_dir() and not (landing / feed / date).exists():
            (landing / feed).mkdir(parents=True, exist_ok=True)
            (landing / feed / date).symlink_to(src.resolve(), target_is_directory=True)
            linked.append(f"{feed}/{date}")
    return linked


def redeliver_unchanged(gen: Path, landing: Path, last: str) -> str:
    """The snapshot deliveries of month `last` (YYYYMMDD) delivered again, dated the next month end: the data
    files linked unchanged, each manifest the same but for its date. Event feeds deliver nothing. Returns the
    new date (YYYYMMDD)."""
    from pipelines.lib.generator import month_ends

    last_day = dt.datetime.strptime(last, "%Y%m%d").date()
    new_day = month_ends(last_day + dt.timedelta(days=1), 1)[0]
    new = f"{new_day:%Y%m%d}"
    for feed in FEEDS:
        src = gen / feed / last
        manifest = json.loads((src / "_MANIFEST.json").read_text()) if (src / "_MANIFEST.json").exists() else {}
        if manifest.get("kind") != "snapshot":
            continue
        dst = landing / feed / new
        dst.mkdir(parents=True, exist_ok=True)
        for path in src.iterdir():
            if path.is_file() and path.name != "_MANIFEST.json" and not (dst / path.name).exists():
                (dst / path.name).symlink_to(path.resolve())
        manifest["delivery_date"] = new_day.isoformat()
        (dst / "_MANIFEST.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return new


def code_snapshot(mode: str, workdir: Path) -> tuple[Path, dict]:
    """The pipeline code to run: `head` = `git archive HEAD` unpacked under the workdir (the working tree may
    be edited by others while a benchmark runs), `worktree` = this checkout as it is."""
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True, check=True).stdout.split("\n")
    info = {"mode": mode, "commit": commit, "worktree_modified": [d[3:] for d in dirty if d.strip()]}
    if mode == "worktree":
        return ROOT, info
    target = workdir / f"code_{commit[:12]}"
    if not (target / "pipelines").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run([*git, "archive", "--format=tar", commit], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    info["modified_files_not_measured"] = info.pop("worktree_modified")
    return target, info


def child_run(run_dir: Path, label: str, dates: list[str], args: argparse.Namespace) -> dict:
    out = run_dir / f"{label}.json"
    code = args.code_dir
    cmd = [sys.executable, __file__, "--_one-run", str(run_dir), "--_label", label, "--_dates", ",".join(dates),
           "--memory-limit", args.memory_limit, "--threads", str(args.threads),
           "--keep-snapshots", str(args.keep_snapshots), "--_code", str(code),
           *(["--keep-event-months", str(args.keep_event_months)] if args.keep_event_months else [])]
    print(f"[{dt.datetime.now():%H:%M:%S}] {label} run: {' '.join(cmd[2:])}", flush=True)
    proc = subprocess.run(cmd, cwd=code, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{label} run failed (exit {proc.returncode})")
    return json.loads(out.read_text())


def baseline_run(gen: Path, date: str, out_dir: Path, cap_gb: float) -> dict:
    """benchmarks/pandas_baseline.py in a subprocess; peak RSS sampled from here (it and its children).

    The baseline holds every feed of a month in memory at once. Past `cap_gb` of RSS it is stopped (the
    machine is shared and has no swap: letting it grow would get some process killed by the kernel), and the
    result says so, with the phases it finished and how long it ran."""
    return _reference_run("pandas_baseline.py", "baseline", gen, date, out_dir, [], cap_gb,
                          f"pandas baseline (memory cap {cap_gb:g} GB, stopped if it needs more)")


def minimal_run(gen: Path, date: str, out_dir: Path, memory_limit: str, threads: int, cap_gb: float) -> dict:
    """benchmarks/duckdb_minimal.py in a subprocess, with the pipeline's DuckDB memory limit and threads; peak RSS
    sampled from here. The issue's reference point: the same result as the pandas baseline in one DuckDB script."""
    res = _reference_run("duckdb_minimal.py", "minimal", gen, date, out_dir,
                         ["--memory-limit", memory_limit, "--threads", str(threads)], cap_gb, "minimal DuckDB script")
    shutil.rmtree(out_dir / "minimal_spill", ignore_errors=True)
    return res


def _reference_run(script: str, name: str, gen: Path, date: str, out_dir: Path, extra: list[str], cap_gb: float,
                   label: str) -> dict:
    """One reference script on a month's files (`<out_dir>/<name>_persons.parquet`, `<name>.json`): what
    run_capped measured, with what the script reported about itself."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result_file = out_dir / f"{name}.json"
    result_file.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).with_name(script)), "--landing", str(gen), "--date", date,
           "--out", str(out_dir / f"{name}_persons.parquet"), "--json", str(result_file), *extra]
    print(f"[{dt.datetime.now():%H:%M:%S}] {label}: {' '.join(cmd[1:])}", flush=True)
    res = run_capped(cmd, cap_gb)
    return {**res, **(json.loads(result_file.read_text()) if result_file.exists() else {})}


def run_capped(cmd: list[str], cap_gb: float) -> dict:
    """Run `cmd`, echoing its output; stop it once its RSS (with children) passes `cap_gb`.

    Returns the exit code, wall time, CPU seconds (its and its children's, from the kernel once it has been waited
    for), peak RSS, whether it was stopped, and the phases it reported as finished ("<phase>: <seconds> s" lines,
    as pandas_baseline.py prints them)."""
    load_before = os.getloadavg()
    cpu_before = _children_cpu()
    t0 = time.time()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    phases: dict[str, float] = {}
    stopped = False
    with Sampler(pid=proc.pid) as sampler:
        reader = threading.Thread(target=_echo_phases, args=(proc, phases), daemon=True)
        reader.start()
        while proc.poll() is None:
            if sampler.samples and sampler.samples[-1][1] > cap_gb * 2**30:
                proc.kill()
                stopped = True
            time.sleep(0.2)
        rc = proc.wait()
        reader.join()
    loads = [v for _, v in sampler.loads]
    return {
        "phases": phases, "exit_code": rc, "wall_seconds": round(time.time() - t0, 1),
        "cpu_seconds": round(_children_cpu() - cpu_before, 1),
        "peak_rss_mb": round(max((r for _, r in sampler.samples), default=0) / MB),
        "memory_cap_gb": cap_gb, "stopped_at_cap": stopped,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_1m_max": round(max(loads), 2) if loads else None,
    }


def _children_cpu() -> float:
    """User + system CPU seconds of this process's children that have been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _echo_phases(proc: subprocess.Popen, phases: dict[str, float]) -> None:
    """Echo the baseline's output and keep its finished phases ("read: 35.0 s" lines) as they come."""
    assert proc.stdout is not None
    for line in proc.stdout:
        print(line, end="", flush=True)
        name, sep, rest = line.partition(": ")
        if sep and rest.endswith(" s\n") and name.isidentifier():
            with contextlib.suppress(ValueError):
                phases[name] = float(rest[:-3])


def machine(memory_limit: str, threads: int) -> dict:
    import dagster
    import duckdb
    import pandas

    return {
        "cores": os.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(), "platform": platform.platform(), "duckdb": duckdb.__version__,
        "dagster": dagster.__version__, "pandas": pandas.__version__, "memory_limit": memory_limit,
        "threads": threads or os.cpu_count(), "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": dt.datetime.now().isoformat(timespec="seconds"),
    }


def bench_size(persons: int, args: argparse.Namespace) -> dict:
    gen, gen_info = generated(persons, args.months, args.seed, args.workdir)
    dates = month_dates(gen)
    run_dir = args.workdir / f"run_p{persons}"
    result: dict = {"persons": persons, "months": args.months, "seed": args.seed, "generation": gen_info,
                    "keep_snapshots": args.keep_snapshots, "keep_event_months": args.keep_event_months,
                    "machine": machine(args.memory_limit, args.threads), "code": args.code_info, "runs": {}}
    previous = RESULTS / f"pipeline_{persons}.json"
    recorded = json.loads(previous.read_text()) if previous.exists() else None
    # what was recorded counts only for the same delivery set (see same_delivery_set)
    same_set = recorded is not None and same_delivery_set(recorded, args.months, args.seed)
    if not args.runs:  # the references alone: the pipeline's runs stay as recorded, with their machine and code
        if not same_set:
            raise SystemExit(f"no recorded runs on this delivery set (--months {args.months} --seed {args.seed}) "
                             f"in {previous}: run the baseline on the set the runs used")
        result = recorded
    elif "full" not in args.runs:  # monthly only: continue a kept full run (same run dir, its full.json)
        if same_set:
            result["runs"].update(recorded.get("runs", {}))
        result["runs"]["full"] = json.loads((run_dir / "full.json").read_text())
    else:
        if run_dir.exists():
            shutil.rmtree(run_dir)
        (run_dir / "landing").mkdir(parents=True)
        link_month(gen, run_dir / "landing", dates[0])
        result["runs"]["full"] = child_run(run_dir, "full", [dates[0]], args)
    if "monthly" in args.runs:  # month 2 is "monthly"; further months show whether the cost grows with history
        for number, date in enumerate(dates[1:], start=2):
            label = "monthly" if number == 2 else f"month_{number}"
            link_month(gen, run_dir / "landing", date)
            result["runs"][label] = child_run(run_dir, label, [date], args)
    if "unchanged" in args.runs:  # nothing changed: the last month's snapshots again, no events
        date = redeliver_unchanged(gen, run_dir / "landing", dates[-1])
        result["runs"]["unchanged"] = child_run(run_dir, "unchanged", [date], args)
    for reference, rerun in (("baseline", args.baseline), ("minimal", args.minimal)):
        # a reference not run again stays as recorded on this delivery set
        if not rerun and result.get(reference) is None and same_set:
            result[reference] = recorded.get(reference)
        if result.get(reference) is None:
            result.pop(reference, None)
    if args.baseline:
        if not args.runs:
            result["baseline_machine"] = machine(args.memory_limit, args.threads)
        result["baseline"] = baseline_run(gen, dates[0], run_dir / "baseline", args.baseline_cap_gb)
    if args.minimal:
        result["minimal"] = minimal_run(gen, dates[0], run_dir / "minimal", args.memory_limit, args.threads,
                                        args.baseline_cap_gb)
    result["disk"] = result.get("disk") if not args.runs else {
        "delivery_set_mb": round(sum(p.stat().st_size for p in gen.rglob("*") if p.is_file()) / MB),
        "work_db_mb": round((run_dir / "work" / "work.duckdb").stat().st_size / MB),
    }
    if not args.keep_runs:
        shutil.rmtree(run_dir / "work" / "duckdb_tmp", ignore_errors=True)
    return result


# --------------------------------------------------------------------------------------------- report
def _fmt_s(x: float | None) -> str:
    return "–" if x is None else f"{x:,.1f}"


def _fmt_mb(x: int | None) -> str:
    """A peak RSS; a step shorter than the sampling interval has no sample (0), shown as "–"."""
    return f"{x:,}" if x else "–"


def size_markdown(r: dict) -> str:
    m = r["machine"]
    full, monthly, unchanged = (r["runs"].get(k) for k in ("full", "monthly", "unchanged"))
    lines = [
        f"# Pipeline benchmark: {r['persons']:,} persons", "",
        f"Machine: {m['cores']} cores, {m['ram_gb']} GiB RAM, Python {m['python']}, duckdb {m['duckdb']}, "
        f"dagster {m['dagster']}, pandas {m['pandas']}; DuckDB memory_limit {m['memory_limit']}, "
        f"threads {m['threads']}; {m['date']}. Shared machine: load average at start {m['loadavg_at_start']}.",
        "", UNITS, "",
        f"Delivery set: {r['months']} months, seed {r['seed']}, {r['generation']['rows']:,} rows, "
        f"{r['generation']['bytes'] / 1e9:.2f} GB (generated in {r['generation']['seconds']} s; later runs reuse it)."
        + (f" Snapshots kept per feed: {r['keep_snapshots']}." if r.get("keep_snapshots") else "")
        + (f" Months of tax events kept: {r['keep_event_months']}." if r.get("keep_event_months") else ""), "",
        *([f"Code: {r['code']['mode']} at commit {r['code']['commit'][:10]}"
           + (f" — {r['code']['note']}" if r['code'].get('note') else ""), ""] if r.get("code") else []),
        "## Runs", "",
        "| run | wall s | in steps s | orchestration s | peak RSS MB | spill peak MB | CPU s (this run) | "
        "CPU s (other processes) | load 1m mean / max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in (full, monthly, unchanged):
        if run:
            lines.append(
                f"| {run['label']} | {run['wall_seconds']} | {run['in_steps_seconds']} | "
                f"{run['orchestration_seconds']} | {run['peak_rss_mb']:,} | {run['spill_peak_mb']:,} | "
                f"{run['process_cpu_seconds']} | {run['other_processes_cpu_seconds']} | "
                f"{run['loadavg_1m_mean']} / {run['loadavg_1m_max']} |"
            )
    if full and monthly:
        lines += ["", f"Monthly / full wall time: **{monthly['wall_seconds'] / full['wall_seconds']:.0%}**."]
    if full and unchanged:
        lines += ["", "A month in which nothing changed (run `unchanged`: the last month's snapshot deliveries "
                  "delivered again byte for byte, no event deliveries) takes "
                  f"**{unchanged['wall_seconds'] / full['wall_seconds']:.0%}** of the full run's wall time "
                  f"({unchanged['process_cpu_seconds']} of {full['process_cpu_seconds']} CPU s). Per stage, s: "
                  + ", ".join(f"{st} {_fmt_s(v['seconds'])}" for st, v in unchanged["stages"].items()) + "."]
    lines += ["", "## Per stage", "", "| stage | full s | full peak RSS MB | monthly s | monthly peak RSS MB |",
              "|---|---:|---:|---:|---:|"]
    for st in [*STAGES, "other"]:
        a = (full or {}).get("stages", {}).get(st)
        b = (monthly or {}).get("stages", {}).get(st)
        if a or b:
            lines.append(f"| {st} | {_fmt_s(a and a['seconds'])} | {_fmt_mb(a and a['peak_rss_mb'])} | "
                         f"{_fmt_s(b and b['seconds'])} | {_fmt_mb(b and b['peak_rss_mb'])} |")
    for run in (full, monthly):
        if not run:
            continue
        lines += ["", f"## Ingest and staging per feed ({run['label']} run: new deliveries only)", "",
                  "| feed | rows | MB | ingest s | rows/s | MB/s | ingest RSS MB | staging s | staging rows/s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for feed in FEEDS:
            f = run["feeds"].get(feed)
            if f:
                lines.append(
                    f"| {feed} | {f['rows_received']:,} | {f['bytes'] / MB:,.1f} | {f.get('ingest_seconds', '–')} | "
                    f"{f.get('ingest_rows_per_s', 0):,} | {f.get('ingest_mb_per_s', '–')} | "
                    f"{_fmt_mb(f.get('ingest_peak_rss_mb'))} | {f.get('staging_seconds', '–')} | "
                    f"{f.get('staging_rows_per_s', 0):,} |"
                )
    for run, label, n in ((full, "full", 12), (monthly, "monthly", 8)):
        if run:
            lines += slowest_steps(run, label, n)
    later = [run for label, run in r["runs"].items() if label.startswith("month_")]
    if monthly and later:
        lines += month_after_month(full, [monthly, *later])
    lines += churn_markdown([run for run in (monthly, *later, unchanged) if run])
    b = r.get("baseline")
    if b and full:
        lines += baseline_markdown(b, full, r.get("baseline_machine"))
    if r.get("minimal") and full:
        lines += minimal_markdown(r["minimal"], full, b)
    return "\n".join(lines) + "\n"


def minimal_markdown(mn: dict, full: dict, baseline: dict | None) -> list[str]:
    """The minimal DuckDB script next to the pipeline's equivalent stages, its whole run and the pandas baseline."""
    eq = sum(full["stages"].get(s, {}).get("seconds", 0) for s in ("ingest", "standardise", "base"))
    lines = ["", "## Minimal DuckDB script (first month only, same files)", "",
             "The issue's reference point: `benchmarks/duckdb_minimal.py` computes the pandas baseline's result in one "
             "DuckDB script (decode, normalise and check IDs, aggregate each feed per person, join, write), with the "
             f"pipeline's memory limit ({mn.get('memory_limit', '–')}). It keeps no raw rows, quarantine, history or "
             "checks and publishes nothing.", "",
             "| | wall s | CPU s | peak RSS MB | pipeline / this (wall) |", "|---|---:|---:|---:|---:|",
             f"| minimal DuckDB script (exit {mn['exit_code']}) | {mn['wall_seconds']} | "
             f"{mn.get('cpu_seconds', '–')} | {mn['peak_rss_mb']:,} | – |",
             f"| DuckDB pipeline: ingest + standardise + base | {eq:.1f} | – | – | {eq / mn['wall_seconds']:.1f}x |",
             f"| DuckDB pipeline: full run | {full['wall_seconds']} | {full.get('process_cpu_seconds', '–')} | "
             f"{full['peak_rss_mb']:,} | {full['wall_seconds'] / mn['wall_seconds']:.1f}x |"]
    if baseline and not baseline.get("stopped_at_cap"):
        lines.append(f"| pandas baseline | {baseline['wall_seconds']} | {baseline.get('cpu_seconds', '–')} | "
                     f"{baseline['peak_rss_mb']:,} | {baseline['wall_seconds'] / mn['wall_seconds']:.1f}x |")
    if mn.get("phases"):
        lines += ["", "Phases (s): " + ", ".join(f"{k} {v}" for k, v in mn["phases"].items())
                  + (f"; {mn['persons_out']:,} person rows from {mn['rows_in']:,} rows read."
                     if mn.get("persons_out") is not None else ".")]
    return lines


def baseline_markdown(b: dict, full: dict, baseline_machine: dict | None) -> list[str]:
    """The pandas baseline next to the pipeline's equivalent stages and whole run (or where it was stopped)."""
    eq = sum(full["stages"].get(s, {}).get("seconds", 0) for s in ("ingest", "standardise", "base"))
    eq_rss = max(full["stages"].get(s, {}).get("peak_rss_mb", 0) for s in ("ingest", "standardise", "base"))
    stopped = b.get("stopped_at_cap")
    label = (f"pandas baseline (stopped past {b['memory_cap_gb']:g} GB)" if stopped
             else f"pandas baseline (exit {b['exit_code']})")
    lines = ["", "## pandas baseline (first month only, same files)", ""]
    if baseline_machine:
        lines += [f"Run on its own, {baseline_machine['date']} (load average at start "
                  f"{baseline_machine['loadavg_at_start']}), next to the pipeline runs above.", ""]
    lines += ["| | wall s | peak RSS MB |", "|---|---:|---:|",
              f"| {label} | {b['wall_seconds']} | {b['peak_rss_mb']:,} |",
              f"| DuckDB pipeline: ingest + standardise + base | {eq:.1f} | {eq_rss:,} |",
              f"| DuckDB pipeline: full run | {full['wall_seconds']} | {full['peak_rss_mb']:,} |", ""]
    if stopped:
        done = ", ".join(f"{k} {v}" for k, v in b.get("phases", {}).items()) or "none"
        lines += [f"The baseline did not finish: it passed the {b['memory_cap_gb']:g} GB cap after "
                  f"{b['wall_seconds']} s (phases finished, s: {done}). It needs more memory than this machine "
                  f"can give it; the pipeline did the whole run in {full['peak_rss_mb']:,} MB."]
        return lines
    lines += [f"Speed-up vs baseline: {b['wall_seconds'] / max(eq, 1e-3):.1f}x (equivalent stages), "
              f"{b['wall_seconds'] / full['wall_seconds']:.1f}x (whole full run). "
              f"Memory: baseline / pipeline peak = {b['peak_rss_mb'] / max(full['peak_rss_mb'], 1):.1f}x."]
    if b.get("phases"):
        lines += ["", "Baseline phases (s): " + ", ".join(f"{k} {v}" for k, v in b["phases"].items())]
    if b.get("persons_out") is not None:
        lines += [f"Baseline output: {b['persons_out']:,} person rows."]
    return lines


def slowest_steps(run: dict, label: str, n: int) -> list[str]:
    """The run's `n` slowest steps; CPU % is CPU seconds over wall seconds (cores x 100 % = all busy)."""
    lines = ["", f"## Slowest steps ({label} run)", "",
             "CPU % is the run's CPU time during the step over its wall time: a step well under the number of cores x "
             "100 % leaves cores idle (Python on its critical path).", "",
             "| step | stage | s | CPU s | CPU % | peak RSS MB |", "|---|---|---:|---:|---:|---:|"]
    for s in sorted(run["steps"], key=lambda s: -s["seconds"])[:n]:
        cpu = s.get("cpu_seconds")
        share = f"{100 * cpu / s['seconds']:.0f} %" if cpu is not None and s["seconds"] > 0 else "–"
        lines.append(f"| {s['step']} | {s['stage']} | {s['seconds']} | {'–' if cpu is None else cpu} | {share} | "
                     f"{_fmt_mb(s['peak_rss_mb'])} |")
    return lines


def month_after_month(full: dict | None, months: list[dict]) -> list[str]:
    """One row per monthly run in order: does a run cost more as the months kept in the working file grow?"""
    first = {s["step"]: s["seconds"] for s in months[0]["steps"]}
    last = {s["step"]: s["seconds"] for s in months[-1]["steps"]}
    grown = sorted(last, key=lambda k: first.get(k, 0) - last[k])[:6]
    lines = ["", "## Month after month (each run loads one more month of deliveries)", "",
             "The step columns are the six steps that grew most from month 2 to the last month (at small sizes"
             " their differences are noise); % of full is the run's wall time against the full run's.", "",
             "| run | wall s | % of full | CPU s | peak RSS MB | work file MB after | "
             + " | ".join(f"{g} s" for g in grown) + " |",
             "|---|---:|---:|---:|---:|---:|" + "---:|" * len(grown)]
    for run in [r for r in (full, *months) if r]:
        steps = {s["step"]: s["seconds"] for s in run["steps"]}
        share = f"{run['wall_seconds'] / full['wall_seconds']:.0%}" if full else "–"
        lines.append(f"| {run['label']} | {run['wall_seconds']} | {share} | {run['process_cpu_seconds']} | "
                     f"{run['peak_rss_mb']:,} | {run['file_mb']['work.duckdb']:,} | "
                     + " | ".join(_fmt_s(steps.get(g)) for g in grown) + " |")
    return lines


def combined_markdown(results: list[dict]) -> str:
    results = sorted(results, key=lambda r: r["persons"])
    m = results[-1]["machine"]
    lines = [
        "# Pipeline benchmark (all sizes)", "",
        f"Machine: {m['cores']} cores, {m['ram_gb']} GiB RAM, Python {m['python']}, duckdb {m['duckdb']}, "
        f"dagster {m['dagster']}, pandas {m['pandas']}, DuckDB memory_limit {m['memory_limit']}, "
        f"threads {m['threads']}. The machine is shared: the load-average and other-process CPU columns show "
        "how contaminated each number is. Per-size details: pipeline_<N>.md / .json.", "", UNITS, "",
        "| persons | run | wall s | CPU s | peak RSS MB | " + " | ".join(f"{s} s" for s in STAGES)
        + " | orchestration s | load 1m mean | other-process CPU s |",
        "|---:|---|---:|---:|---:|" + "---:|" * len(STAGES) + "---:|---:|---:|",
    ]
    for r in results:
        for label, run in r["runs"].items():
            st = run["stages"]
            lines.append(
                f"| {r['persons']:,} | {label} | {run['wall_seconds']} | {run['process_cpu_seconds']} | "
                f"{run['peak_rss_mb']:,} | "
                + " | ".join(_fmt_s(st.get(s, {}).get("seconds")) for s in STAGES)
                + f" | {run['orchestration_seconds']} | {run['loadavg_1m_mean']} | "
                f"{run['other_processes_cpu_seconds']} |"
            )
    lines += ["", "## Targets (issue \"City scale\")", "", "| target | measured | met |", "|---|---|---|"]
    by = {r["persons"]: r for r in results}
    big = by.get(10_000_000)
    one = by.get(1_000_000)
    if big:
        w = big["runs"]["full"]["wall_seconds"]
        lines.append(f"| full run at 10M < 300 s | {w} s | {'yes' if w < 300 else 'no'} |")
    for r in results:
        peak = max(run["peak_rss_mb"] for run in r["runs"].values())  # MiB, the most of any run
        met = peak * 2**20 < 6e9
        lines.append(f"| peak memory < 6 GB ({r['persons']:,}) | {peak:,} MB, the most of any run "
                     f"| {'yes' if met else 'no'} |")
    if big and one:
        ratio = big["runs"]["full"]["wall_seconds"] / one["runs"]["full"]["wall_seconds"]
        cpu = big["runs"]["full"]["process_cpu_seconds"] / one["runs"]["full"]["process_cpu_seconds"]
        lines.append(f"| time(10M) / time(1M) ≤ 11 | wall {ratio:.1f}, CPU s {cpu:.1f} | "
                     f"{'yes' if ratio <= 11 else 'no'}{' (CPU: borderline)' if cpu > 10.5 else ''} |")
    for r in results:
        for label, target in (("monthly", "monthly ≤ 15% of full"), ("unchanged", "… a month with nothing changed")):
            if label in r["runs"]:
                q = r["runs"][label]["wall_seconds"] / r["runs"]["full"]["wall_seconds"]
                lines.append(f"| {target} ({r['persons']:,}) | {q:.0%} | {'yes' if q <= 0.15 else 'no'} |")
    for r in results:
        b = r.get("baseline")
        if b:
            full = r["runs"]["full"]
            if b.get("stopped_at_cap"):
                lines.append(
                    f"| ≥ 3x faster than pandas, less memory ({r['persons']:,}) | the baseline cannot run here: "
                    f"stopped past {b['memory_cap_gb']:g} GB after {b['wall_seconds']} s; the pipeline's whole run "
                    f"{full['wall_seconds']} s in {full['peak_rss_mb']:,} MB | no ratio (memory: yes) |"
                )
                continue
            eq = sum(full["stages"].get(s, {}).get("seconds", 0) for s in ("ingest", "standardise", "base"))
            x = b["wall_seconds"] / max(eq, 1e-3)
            less = full["peak_rss_mb"] < b["peak_rss_mb"]
            lines.append(
                f"| ≥ 3x faster than pandas, less memory ({r['persons']:,}) | {x:.1f}x on equivalent stages "
                f"({b['wall_seconds'] / full['wall_seconds']:.1f}x on the whole run); {full['peak_rss_mb']:,} vs "
                f"{b['peak_rss_mb']:,} MB | {'yes' if x >= 3 and less else 'no'} |"
            )
    for r in results:
        mn = r.get("minimal")
        if mn and mn.get("exit_code") == 0:
            w = r["runs"]["full"]["wall_seconds"]
            lines.append(f"| (reference, no target) the pipeline's full run against the minimal DuckDB script "
                         f"({r['persons']:,}) | {w} s vs {mn['wall_seconds']} s: {w / mn['wall_seconds']:.1f}x | – |")
    for r in results:
        c = r.get("code")
        if c:
            lines.append(f"\n{r['persons']:,}: code {c['mode']} at commit {c['commit'][:10]}"
                         + (f" ({c['note']})" if c.get("note") else ""))
    notes = RESULTS / "pipeline_notes.md"
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    return "\n".join(lines) + "\n"


def write_results(result: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    n = result["persons"]
    for run in result["runs"].values():
        restage(run)
    (RESULTS / f"pipeline_{n}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    (RESULTS / f"pipeline_{n}.md").write_text(size_markdown(result))
    allres = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("pipeline_*.json"))]
    (RESULTS / "pipeline.md").write_text(combined_markdown(allres))


def main() -> None:
    from pipelines.lib.duck import DEFAULT_MEMORY_LIMIT

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, action="append")
    ap.add_argument("--months", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench")
    ap.add_argument("--baseline", action="store_true", help="also run benchmarks/pandas_baseline.py")
    ap.add_argument("--minimal", action="store_true",
                    help="also run benchmarks/duckdb_minimal.py (the issue's minimal DuckDB script)")
    ap.add_argument("--baseline-cap-gb", type=float,
                    default=round(0.7 * psutil.virtual_memory().total / 2**30, 1),
                    help="stop the pandas baseline past this RSS (default 70%% of RAM)")
    ap.add_argument("--memory-limit", default=os.environ.get("POPBASE_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("POPBASE_THREADS") or 0))
    ap.add_argument("--keep-snapshots", type=int, default=int(os.environ.get("POPBASE_KEEP_SNAPSHOTS") or 2),
                    help="snapshot deliveries per feed whose rows the working file keeps (default 2, as the pipeline)")
    ap.add_argument("--keep-event-months", type=int,
                    default=int(os.environ.get("POPBASE_KEEP_EVENT_MONTHS") or 0) or None,
                    help="months of tax events the working file keeps (default: every event, as the pipeline)")
    ap.add_argument("--runs", default="full,monthly",
                    help="full,monthly (default) | full | monthly (continues the kept run dir of a full run) | none "
                         "(with --baseline or --minimal: those alone, next to the runs already recorded); "
                         "add ',unchanged' for a last run in which nothing changed (the last snapshots again, "
                         "no events)")
    ap.add_argument("--keep-runs", action="store_true", help="keep the DuckDB spill directories")
    ap.add_argument("--markdown-only", action="store_true", help="re-render the markdown from the JSON files")
    ap.add_argument("--_one-run", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--_label", help=argparse.SUPPRESS)
    ap.add_argument("--_dates", help=argparse.SUPPRESS)
    ap.add_argument("--_code", help=argparse.SUPPRESS)
    ap.add_argument("--code", choices=["head", "worktree"], default="head",
                    help="run the committed HEAD (a git-archive snapshot, default) or the working tree as it is")
    args = ap.parse_args()
    if args._one_run:
        res = one_run(args._one_run, args._label, args._dates.split(","), args.memory_limit, args.threads,
                      args.keep_snapshots, args.keep_event_months)
        (args._one_run / f"{args._label}.json").write_text(json.dumps(res, indent=1))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # as `popbase`: skip tearing down DuckDB's bindings, which print reference-leak notes
    if args.markdown_only:
        for p in sorted(RESULTS.glob("pipeline_*.json")):
            write_results(json.loads(p.read_text()))
        print((RESULTS / "pipeline.md").read_text())
        return
    if not args.persons:
        ap.error("--persons is required")
    args.workdir = args.workdir.resolve()
    args.runs = {r.strip() for r in args.runs.split(",")} - {"none"}
    if not args.runs and not (args.baseline or args.minimal):
        ap.error("--runs none needs --baseline or --minimal")
    args.code_dir, args.code_info = code_snapshot(args.code, args.workdir)
    for persons in args.persons:
        result = bench_size(persons, args)
        write_results(result)
        print(size_markdown(result), flush=True)


if __name__ == "__main__":
    main()
