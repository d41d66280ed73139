"""Jobs, schedules, sensors, freshness, failure alerts and single-writer safety, on a real Dagster instance."""

import datetime as dt
import hashlib
import http.server
import json
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from pipelines.defs import automation
from pipelines.defs.resources import PopbaseSettings, WorkDuckDB
from pipelines.defs.sql_assets import sql_model_asset
from pipelines.feeds import PROJECT_ROOT, registry
from pipelines.lib.alerts import alert_config
from pipelines.lib.ingest import ensure_ops_schema
from pipelines.lib.sql_models import parse_model
from pipelines.runner import load_definitions
from pipelines.settings import load_settings
from tests.postgres_server import (
    OPERATIONS_DOC,
    postgres_server,
    production_dagster_yaml,
    production_environment_file,
)

DAGSTER_YAML = PROJECT_ROOT / "dagster_home" / "dagster.yaml"
FEED_FRESHNESS_SQL = PROJECT_ROOT / "assets" / "marts" / "feed_freshness.sql"
POOL_LIMIT_COMMAND = "dagster instance concurrency set popbase_duckdb 1"
FAKE_ID = "330302199001011234"  # shaped like a citizen ID: must never reach an alert


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary DAGSTER_HOME with the project's dagster.yaml (SQLite, pools, run monitoring)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DAGSTER_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture
def instance(dagster_home: Path) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.get() as inst:
        yield inst


def settings_resource(root: Path) -> PopbaseSettings:
    return PopbaseSettings(
        landing_dir=str(root / "landing"), warehouse_dir=str(root / "warehouse"), work_dir=str(root / "work")
    )


def deliver(landing: Path, feed: str, date: dt.date, payload: bytes, *, manifest: bool = True) -> Path:
    """Write a delivery folder with one data file and (unless told not to) its `_MANIFEST.json`."""
    spec = registry().feeds[feed]
    folder = landing / feed / f"{date:%Y%m%d}"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{feed}_{date:%Y%m%d}.{spec.format}"
    (folder / name).write_bytes(payload)
    if manifest:
        body = {
            "feed": feed,
            "delivery_date": date.isoformat(),
            "kind": spec.kind,
            "files": [{"name": name, "rows": 1, "sha256": hashlib.sha256(payload).hexdigest()}],
        }
        (folder / "_MANIFEST.json").write_text(json.dumps(body), encoding="utf-8")
    return folder


# --- jobs and schedules -------------------------------------------------------------------------------


def test_jobs_cover_every_feed_and_default_states_are_documented() -> None:
    defs = automation.defs()
    names = {job.name for job in defs.jobs}
    assert {automation.FULL_REFRESH_JOB_NAME, automation.DAILY_QUALITY_JOB_NAME} <= names
    assert {automation.ingest_job_name(f) for f in registry().feeds} <= names
    for schedule in defs.schedules:
        assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
        assert schedule.execution_timezone == "Asia/Shanghai"
    sensors = {s.name: s for s in defs.sensors}
    assert sensors[automation.DELIVERY_SENSOR_NAME].default_status == dg.DefaultSensorStatus.STOPPED
    assert sensors[automation.DELIVERY_SENSOR_NAME].minimum_interval_seconds == 60
    assert sensors[automation.FAILURE_SENSOR_NAME].default_status == dg.DefaultSensorStatus.RUNNING


def test_ingest_job_selects_the_feeds_raw_and_staging_assets() -> None:
    job = automation.ingest_job(registry().feeds["tax"])
    selection = job.selection
    assert isinstance(selection, dg.AssetSelection)
    assert job.name == "ingest_tax"
    assert set(automation.feed_asset_keys("tax")) == {dg.AssetKey(["raw", "tax"]), dg.AssetKey(["staging", "stg_tax"])}


def test_monthly_schedule_requests_the_full_refresh_at_3_on_the_5th_shanghai(instance: dg.DagsterInstance) -> None:
    schedule = automation.full_refresh_schedule
    assert schedule.cron_schedule == "0 3 5 * *"
    assert schedule.job_name == automation.FULL_REFRESH_JOB_NAME
    tick = dt.datetime(2026, 12, 5, 3, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
    result = schedule.evaluate_tick(context)
    assert len(result.run_requests) == 1
    request = result.run_requests[0]
    assert request.job_name in (None, automation.FULL_REFRESH_JOB_NAME)
    assert request.tags["popbase/trigger"] == "schedule"


def test_daily_quality_schedule_requests_one_run(instance: dg.DagsterInstance) -> None:
    schedule = automation.daily_quality_schedule
    assert schedule.job_name == automation.DAILY_QUALITY_JOB_NAME
    tick = dt.datetime(2026, 12, 6, 6, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    result = schedule.evaluate_tick(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick))
    assert len(result.run_requests) == 1


# --- the delivery sensor -------------------------------------------------------------------------------


def evaluate_delivery_sensor(root: Path, instance: dg.DagsterInstance) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, resources={"popbase": settings_resource(root)})
    result = automation.delivery_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_delivery_sensor_run_keys_follow_the_content(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    assert not evaluate_delivery_sensor(tmp_path, instance).run_requests

    # data file without its manifest: not complete yet, no run
    folder = deliver(landing, "hukou", dt.date(2026, 10, 31), b"GMSFHM\n", manifest=False)
    assert not evaluate_delivery_sensor(tmp_path, instance).run_requests

    # the manifest arrives: one run of ingest_hukou keyed by the content hash
    deliver(landing, "hukou", dt.date(2026, 10, 31), b"GMSFHM\n")
    first = evaluate_delivery_sensor(tmp_path, instance).run_requests
    assert len(first) == 1
    request = first[0]
    assert request.job_name == "ingest_hukou"
    assert request.run_key is not None and len(request.run_key) == 64
    assert request.tags["popbase/delivery_date"] == "2026-10-31"
    assert request.tags["popbase/delivery_id"] == f"hukou/20261031/{request.run_key[:12]}"

    # the same delivery again: the same run key, so Dagster does not run it twice
    again = evaluate_delivery_sensor(tmp_path, instance).run_requests
    assert [r.run_key for r in again] == [request.run_key]

    # re-delivered with new content: a new run key
    shutil.rmtree(folder)
    deliver(landing, "hukou", dt.date(2026, 10, 31), b"GMSFHM\nchanged\n")
    changed = evaluate_delivery_sensor(tmp_path, instance).run_requests
    assert len(changed) == 1 and changed[0].run_key != request.run_key


def test_delivery_sensor_starts_one_run_per_feed_delivery(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    landing = tmp_path / "landing"
    deliver(landing, "tax", dt.date(2026, 9, 30), b"a\n")
    deliver(landing, "tax", dt.date(2026, 10, 31), b"b\n")
    deliver(landing, "property", dt.date(2026, 10, 31), b"c\n")
    (landing / "tax" / "not-a-date").mkdir()
    requests = evaluate_delivery_sensor(tmp_path, instance).run_requests
    assert sorted((r.job_name, r.tags["popbase/delivery_date"]) for r in requests) == [
        ("ingest_property", "2026-10-31"),
        ("ingest_tax", "2026-09-30"),
        ("ingest_tax", "2026-10-31"),
    ]


def test_delivery_sensor_skips_a_missing_landing_dir(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    result = evaluate_delivery_sensor(tmp_path, instance)
    assert not result.run_requests
    assert result.skip_reason is not None and "does not exist" in result.skip_reason.skip_message


# --- freshness -------------------------------------------------------------------------------------------


def test_raw_freshness_policy_is_cadence_plus_grace() -> None:
    feed = registry().feeds["hukou"]
    policy = automation.raw_freshness_policy(feed)
    assert policy.fail_window.to_timedelta() == dt.timedelta(days=feed.cadence_days + feed.grace_days)
    assert policy.warn_window is not None and policy.warn_window.to_timedelta() == dt.timedelta(days=feed.cadence_days)


def test_feed_freshness_reports_late_feeds(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    today = dt.date.today()
    hukou, residence = registry().feeds["hukou"], registry().feeds["residence_permit"]
    late_date = today - dt.timedelta(days=hukou.cadence_days + hukou.grace_days + 5)
    fresh_date = today - dt.timedelta(days=3)
    with duckdb.connect(str(work / "work.duckdb")) as con:
        ensure_ops_schema(con)
        rows = [
            ("hukou", late_date, "loaded"),
            ("hukou", late_date - dt.timedelta(days=31), "loaded"),
            ("residence_permit", fresh_date, "loaded"),
            ("tax", fresh_date, "rejected"),
        ]
        con.executemany(
            "insert into ops.deliveries (delivery_id, feed, delivery_date, content_hash, status) "
            "values (?, ?, ?, ?, ?)",
            [(f"{f}/{d:%Y%m%d}/{i:012x}", f, d, f"{i:064x}", s) for i, (f, d, s) in enumerate(rows)],
        )
    asset = sql_model_asset(parse_model(FEED_FRESHNESS_SQL))
    result = dg.materialize(
        [asset],
        resources={"duckdb": WorkDuckDB(database=str(work / "work.duckdb")), "popbase": settings_resource(tmp_path)},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    with duckdb.connect(str(work / "work.duckdb"), read_only=True) as con:
        got = {
            r[0]: r[1:]
            for r in con.execute(
                "select feed, last_delivery_date, due_date, is_late, days_late, status from marts.feed_freshness"
            ).fetchall()
        }
    assert set(got) == set(registry().feeds)
    assert got["hukou"] == (late_date, late_date + dt.timedelta(days=41), True, 5, "late")
    assert got["residence_permit"][0] == fresh_date
    assert got["residence_permit"][2:] == (False, 0, "on_time")
    assert residence.cadence_days + residence.grace_days == (got["residence_permit"][1] - fresh_date).days
    # a rejected delivery does not count as arrived
    assert got["tax"][0] is None and got["tax"][2] is True and got["tax"][4] == "never_loaded"

    # with POPBASE_REFERENCE_DATE set, the late list judges against it (as the quality rules do), not today
    as_of = fresh_date + dt.timedelta(days=residence.cadence_days + residence.grace_days + 2)
    popbase = PopbaseSettings(landing_dir=str(tmp_path / "landing"), warehouse_dir=str(tmp_path / "warehouse"),
                              work_dir=str(work), reference_date=as_of.isoformat())
    result = dg.materialize([asset], resources={"duckdb": WorkDuckDB(database=str(work / "work.duckdb")),
                                                "popbase": popbase}, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    with duckdb.connect(str(work / "work.duckdb"), read_only=True) as con:
        row = con.execute("select as_of_date, days_late, status from marts.feed_freshness "
                          "where feed = 'residence_permit'").fetchone()
    assert row == (as_of, 2, "late")


# --- failure alerts ---------------------------------------------------------------------------------------


class Collector(http.server.BaseHTTPRequestHandler):
    """A webhook receiver on localhost that keeps the bodies it was sent."""

    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        Collector.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
    Collector.bodies = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@dg.asset(key=["staging", "stg_broken"])
def broken_asset() -> None:
    raise ValueError(f"bad row for {FAKE_ID} 张三")


def test_failed_run_writes_an_alert_without_personal_data(
    tmp_path: Path, instance: dg.DagsterInstance, dagster_home: Path, webhook: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POPBASE_ALERT_LOG", raising=False)
    monkeypatch.setenv("POPBASE_ALERT_WEBHOOK", webhook)
    result = dg.materialize([broken_asset], instance=instance, raise_on_error=False)
    assert not result.success
    context = dg.build_run_status_sensor_context(
        sensor_name=automation.FAILURE_SENSOR_NAME,
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    ).for_run_failure()
    automation.run_failure_alert(context)

    log = dagster_home / "alerts" / "alerts.log"
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    alert = json.loads(lines[0])
    assert alert["job"] == result.dagster_run.job_name
    assert alert["run_id"] == result.run_id
    assert alert["failed_steps"] == ["staging__stg_broken"]
    assert alert["error_classes"] == ["ValueError"]
    assert FAKE_ID not in lines[0] and "张三" not in lines[0]
    assert len(Collector.bodies) == 1
    posted = json.loads(Collector.bodies[0])
    assert posted["alert"]["run_id"] == result.run_id and FAKE_ID not in Collector.bodies[0].decode()


def test_every_duckdb_step_is_in_the_single_writer_pool() -> None:
    """Assets and checks that use the working file must queue on `popbase_duckdb` (limit 1 in dagster.yaml)."""
    defs = load_definitions()
    outside = [
        f"{kind} {node.node_def.name}"
        for kind, nodes in (("asset", defs.assets or []), ("check", defs.asset_checks or []))
        for node in nodes
        if isinstance(node, dg.AssetsDefinition)
        and "duckdb" in node.required_resource_keys
        and node.node_def.pool != "popbase_duckdb"
    ]
    assert not outside, f"steps that open DuckDB outside the pool popbase_duckdb: {outside}"


def test_raw_assets_carry_the_registry_freshness_policy() -> None:
    specs = {spec.key: spec for node in load_definitions().assets or [] for spec in node.specs}
    for feed in registry().feeds.values():
        policy = specs[dg.AssetKey(["raw", feed.name])].freshness_policy
        assert policy == automation.raw_freshness_policy(feed), f"raw/{feed.name}: {policy}"


# --- single writer ----------------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys, time
    import dagster as dg
    from pipelines.defs.feed_assets import DUCKDB_POOL
    from pipelines.defs.resources import WorkDuckDB

    name, database = sys.argv[1], sys.argv[2]

    @dg.asset(key=["staging", f"stg_writer_{name}"], pool=DUCKDB_POOL)
    def writer(duckdb: WorkDuckDB) -> None:
        with duckdb.connect() as con:
            con.execute("create table if not exists log (writer varchar, started double, ended double)")
            started = time.time()
            con.execute("create or replace table scratch as select range as i from range(200000)")
            time.sleep(1.5)  # hold the file like a long staging step
            con.execute("insert into log values (?, ?, ?)", [name, started, time.time()])

    with dg.DagsterInstance.get() as instance:
        result = dg.materialize([writer], resources={"duckdb": WorkDuckDB(database=database)}, instance=instance,
                                raise_on_error=False)
    sys.exit(0 if result.success else 1)
    """
)


def test_two_runs_at_once_on_one_working_file_both_succeed(tmp_path: Path, dagster_home: Path) -> None:
    """Two processes launch a run at the same moment; the pool (limit 1) serialises their DuckDB steps."""
    two_writers_in_turn(tmp_path)


def test_the_production_instance_on_postgresql_serialises_them_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The production dagster.yaml exactly as docs/operations.md gives it, on a real PostgreSQL server: it loads,
    Dagster creates its tables, and the pool claimed through PostgreSQL serialises two runs' DuckDB steps."""
    with postgres_server() as server:
        home = tmp_path / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text(production_dagster_yaml(server, home), encoding="utf-8")
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        monkeypatch.setenv("DAGSTER_PG_PASSWORD", "not-checked-by-the-test-server")
        # the guide's one-off pool limit (without it, two first claims at once can fail: Dagster issue #33552)
        assert POOL_LIMIT_COMMAND in OPERATIONS_DOC.read_text(encoding="utf-8")
        subprocess.run([sys.executable, "-m", "dagster", *POOL_LIMIT_COMMAND.split()[1:]], check=True,
                       capture_output=True, cwd=PROJECT_ROOT)
        two_writers_in_turn(tmp_path)
        with dg.DagsterInstance.get() as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
            assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
            runs = instance.get_runs()
            assert [run.status for run in runs] == [dg.DagsterRunStatus.SUCCESS] * 2
            pool = instance.event_log_storage.get_pool_limits()
            assert [(p.name, p.limit, p.from_default) for p in pool] == [("popbase_duckdb", 1, False)]


def test_the_production_environment_file_loads_as_systemd_reads_it() -> None:
    """Every value of the guide's environment file is valid as systemd passes it (no inline comments)."""
    env = production_environment_file()
    settings = load_settings(env)
    assert (settings.keep_snapshots, settings.memory_limit) == (2, "16GB")
    assert settings.work_db == Path(env["POPBASE_WORK_DIR"]) / "work.duckdb"
    assert alert_config(env).webhook_url == env["POPBASE_ALERT_WEBHOOK"]
    assert "POPBASE_PSEUDONYM_KEY" not in env


def two_writers_in_turn(tmp_path: Path) -> None:
    """Launch two writer runs at the same moment on the instance of $DAGSTER_HOME; they must not overlap."""
    database = tmp_path / "work" / "work.duckdb"
    with dg.DagsterInstance.get() as instance:  # create the storage once: two first-time migrations race
        instance.get_runs(limit=1)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, name, str(database)],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for name in ("a", "b")
    ]
    outputs = [p.communicate(timeout=240)[0].decode(errors="replace") for p in procs]
    for proc, output in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, output[-3000:]
    with duckdb.connect(str(database), read_only=True) as con:
        spans = con.execute("select writer, started, ended from log order by started").fetchall()
    assert [w for w, _, _ in spans] in (["a", "b"], ["b", "a"])
    assert spans[0][2] <= spans[1][1], f"the two writers overlapped: {spans}"


HOLDER = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('holding', flush=True); time.sleep(2.5)"


def test_a_step_waits_for_the_working_file_while_another_process_holds_it(tmp_path: Path) -> None:
    database = tmp_path / "work.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(database)], stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"holding"
    try:
        with pytest.raises(duckdb.IOException, match="lock"), WorkDuckDB(
            database=str(database), lock_wait_seconds=0.3
        ).connect():
            pass
        started = time.monotonic()
        with WorkDuckDB(database=str(database), lock_wait_seconds=30).connect() as con:
            assert con.execute("select 42").fetchone() == (42,)
        assert time.monotonic() - started > 0.5  # it waited for the holder to let go
    finally:
        holder.wait(timeout=30)
