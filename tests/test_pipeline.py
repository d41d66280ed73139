"""The whole pipeline on a generated delivery set: accounting, rejections, privacy, idempotence."""

from __future__ import annotations

import stat
from dataclasses import replace

import duckdb
import pytest

from pipelines.lib.duck import connect
from pipelines.runner import RunFailedError, run_all
from tests.conftest import PipelineRun


def _full(run: PipelineRun) -> duckdb.DuckDBPyConnection:
    return connect(run.settings.population_file, read_only=True, memory_limit="1GB")


def test_every_received_row_is_accounted_for(e2e_run: PipelineRun) -> None:
    con = _full(e2e_run)
    rows = con.execute(
        "select feed, delivery_date, rows_received, rows_loaded, rows_duplicate, rows_quarantined "
        "from deliveries where status = 'loaded'"
    ).fetchall()
    assert len(rows) >= 7 * 2
    for feed, day, received, loaded, dup, quarantined in rows:
        assert received == loaded + dup + quarantined, (feed, day)
    per_delivery = dict(con.execute(
        "select delivery_id, count(*) from quarantine group by all").fetchall())
    for delivery_id, quarantined in con.execute(
            "select delivery_id, rows_quarantined from deliveries where status = 'loaded'").fetchall():
        assert per_delivery.get(delivery_id, 0) == quarantined


def test_quarantine_is_a_view_in_the_working_file_and_a_table_when_published(e2e_run: PipelineRun) -> None:
    """The working file does not copy every quarantined row again each run: `marts.quarantine` is a view over
    the ledger. Analysts get a table with the same rows."""
    with connect(e2e_run.settings.work_db, read_only=True, memory_limit="1GB") as work:
        assert work.execute("select count(*) from duckdb_views() "
                            "where schema_name = 'marts' and view_name = 'quarantine'").fetchone()[0] == 1
        in_working_file = work.execute("select count(*) from marts.quarantine").fetchone()[0]
    with _full(e2e_run) as published:
        assert published.execute(
            "select count(*) from duckdb_tables() where table_name = 'quarantine'").fetchone()[0] == 1
        assert published.execute("select count(*) from quarantine").fetchone()[0] == in_working_file > 0


def test_broken_deliveries_are_rejected_whole_and_named(e2e_run: PipelineRun) -> None:
    con = _full(e2e_run)
    broken = duckdb.connect().execute(
        "select feed, delivery_date, problem from read_parquet(?)",
        [str(e2e_run.landing / "_truth" / "deliveries_broken.parquet")],
    ).fetchall()
    assert broken
    for feed, day, problem in broken:
        status = con.execute(
            "select status, message from deliveries where feed = ? and delivery_date = ?", [feed, day]
        ).fetchall()
        if problem == "no_manifest":
            assert status == [], "an incomplete delivery must be left alone"
            continue
        assert [s for s, _ in status] == ["rejected"], (feed, problem)
        assert status[0][1], "a rejection names its reason"
        assert con.execute(
            "select count(*) from quarantine where feed = ? and delivery_date = ?", [feed, day]).fetchone()[0] == 0


def test_previous_snapshot_stays_in_force_after_a_rejection(e2e_run: PipelineRun) -> None:
    con = _full(e2e_run)
    in_hukou = con.execute("select count(*) from population_base where in_hukou").fetchone()[0]
    assert in_hukou > 0.6 * 3_000
    reference = con.execute("select max(reference_date) from population_base").fetchone()[0]
    latest_loaded = con.execute("select max(delivery_date) from deliveries where status = 'loaded'").fetchone()[0]
    assert reference == latest_loaded


def test_no_citizen_id_or_name_in_dagster_logs_or_metadata(e2e_run: PipelineRun) -> None:
    con = _full(e2e_run)
    ids = {r[0] for r in con.execute("select citizen_id from population_base").fetchall()}
    names = {r[0] for r in con.execute(
        "select name from population_base where length(name) >= 3").fetchall()}
    text = "\n".join(
        str(entry.user_message) + repr(entry.dagster_event)
        for entry in e2e_run.instance.all_logs(e2e_run.result.run_id)
    )
    assert len(text) > 10_000
    leaked_ids = [i for i in ids if i in text or i[:17] in text]
    leaked_names = [n for n in names if n in text]
    assert not leaked_ids, f"{len(leaked_ids)} citizen IDs in the event log"
    assert not leaked_names, f"{len(leaked_names)} names in the event log"


def test_analyst_snapshot_holds_no_id_or_name(e2e_run: PipelineRun) -> None:
    full = _full(e2e_run)
    ids = {r[0] for r in full.execute("select citizen_id from population_base").fetchall()}
    names = {r[0] for r in full.execute("select name from population_base where name is not null").fetchall()}
    analyst = connect(e2e_run.settings.analyst_file, read_only=True, memory_limit="1GB")
    columns = analyst.execute(
        "select table_name, column_name from duckdb_columns() where data_type = 'VARCHAR' and not internal "
        "and database_name = current_database()"
    ).fetchall()
    assert columns
    for table, column in columns:
        values = {r[0] for r in analyst.execute(f'select distinct "{column}" from "{table}"').fetchall()}
        assert not values & ids, f"{table}.{column} holds citizen IDs"
        assert not values & names, f"{table}.{column} holds names"


def test_every_quality_rule_of_the_first_run_ran_on_this_runs_tables(e2e_run: PipelineRun) -> None:
    """A check whose rules read another table (households: "every member is in the population base") runs
    after that table is built: on a fresh working file it used to find no table and fail with an error."""
    with connect(e2e_run.settings.work_db, read_only=True, memory_limit="1GB") as work:
        first_run = work.execute(
            "select run_id from quality.expectation_results order by run_at limit 1").fetchone()
        errors = work.execute(
            "select suite, rule from quality.expectation_results where run_id = $run and error is not null",
            {"run": first_run[0]}).fetchall()
        suites = {r[0] for r in work.execute(
            "select distinct suite from quality.expectation_results where run_id = $run", {"run": first_run[0]}
        ).fetchall()}
    assert {"households", "person_flags", "population_base"} <= suites
    assert errors == []


def test_a_second_run_loads_nothing_twice(e2e_run: PipelineRun) -> None:
    before = _full(e2e_run).execute("select count(*), sum(rows_loaded) from deliveries").fetchone()
    run_all(e2e_run.settings)
    after = _full(e2e_run).execute("select count(*), sum(rows_loaded) from deliveries").fetchone()
    assert before == after


def test_the_run_summary_names_counts_and_no_person(e2e_run: PipelineRun, capsys: pytest.CaptureFixture) -> None:
    """What `popbase run` prints at the end: counts, failed quality rules per suite, the working file; no ID."""
    from pipelines.cli import _print_summary

    _print_summary(e2e_run.settings, 1.0)
    out = capsys.readouterr().out
    assert "working file:" in out and "persons known:" in out
    assert "quality rules failed, by suite: " in out  # the generated defects fail some rules
    arriving = duckdb.connect().execute(
        "select feed || '/' || strftime(delivery_date, '%Y%m%d') from read_parquet(?) where problem = 'no_manifest'",
        [str(e2e_run.landing / "_truth" / "deliveries_broken.parquet")],
    ).fetchall()
    assert arriving and f"still arriving (no _MANIFEST.json yet, not read): {arriving[0][0]}" in out
    ids = {r[0] for r in _full(e2e_run).execute("select citizen_id from population_base").fetchall()}
    assert not any(i in out for i in ids)


def test_superseded_snapshots_leave_the_working_file(e2e_run: PipelineRun) -> None:
    """With POPBASE_KEEP_SNAPSHOTS=1 only the snapshot in force of each feed keeps its raw and staged rows; the
    others stay in the ledger (pruned_at) with their quarantined rows. Event deliveries are never pruned."""
    materialized = {e.asset_key.to_user_string() for e in e2e_run.result.get_asset_materialization_events()}
    assert "published/snapshot_retention" in materialized
    work = connect(e2e_run.settings.work_db, read_only=True, memory_limit="1GB")
    try:
        ledger = work.execute(
            "select d.feed, d.delivery_id, r.kind, d.pruned_at is not null, f.delivery_id is not null "
            "from ops.deliveries as d inner join ref.feeds as r on r.feed = d.feed "
            "left join intermediate.int_deliveries_in_force as f on f.delivery_id = d.delivery_id "
            "where d.status = 'loaded'"
        ).fetchall()
        pruned = [(feed, delivery) for feed, delivery, kind, is_pruned, _ in ledger if is_pruned]
        assert {feed for feed, _ in pruned} == {"hukou", "residence_permit", "education", "social_insurance",
                                                "property"}
        assert all(is_pruned == (kind == "snapshot" and not in_force)
                   for _, _, kind, is_pruned, in_force in ledger)
        for feed, delivery in pruned:
            for table in (f'raw."{feed}"', f'staging."stg_{feed}"'):
                assert work.execute(f"select count(*) from {table} where delivery_id = ?",
                                    [delivery]).fetchone()[0] == 0
        kept = work.execute(
            "select count(*) from ops.quarantine where delivery_id in (select unnest(?))", [[d for _, d in pruned]]
        ).fetchone()[0]
        assert kept > 0
    finally:
        work.close()


def test_old_events_leave_the_working_file(e2e_run: PipelineRun) -> None:
    """With POPBASE_KEEP_EVENT_MONTHS=12 no tax event before the 12 months up to the reference month stays in
    raw, staging or int_tax_events_latest; the step's metadata says from when (a date and counts, no person)."""
    events = [e for e in e2e_run.result.get_asset_materialization_events()
              if e.asset_key.to_user_string() == "published/event_retention"]
    assert len(events) == 1
    metadata = events[0].materialization.metadata
    assert metadata["keep_event_months"].value == 12
    assert set(metadata["staged_rows_deleted"].value) == {"tax"}
    with connect(e2e_run.settings.work_db, read_only=True, memory_limit="1GB") as work:
        expected = work.execute(
            "select date_trunc('month', max(delivery_date)) - interval 12 month from ops.deliveries "
            "where status = 'loaded'"
        ).fetchone()[0]
        assert metadata["events_kept_from"].value == expected.date().isoformat()
        for table in ("staging.stg_tax", "intermediate.int_tax_events_latest"):
            older = work.execute(f"select count(*) from {table} where income_period < ?", [expected]).fetchone()
            assert older[0] == 0
        assert work.execute("select count(*) from staging.stg_tax").fetchone()[0] > 0


def test_run_without_a_pseudonym_key_fails_with_the_reason(e2e_run: PipelineRun) -> None:
    from dataclasses import replace

    with pytest.raises(RunFailedError, match="POPBASE_PSEUDONYM_KEY"):
        run_all(replace(e2e_run.settings, pseudonym_key=None))


def test_a_blocking_check_failure_publishes_nothing(e2e_run: PipelineRun) -> None:
    """A ledger that no longer adds up (rows lost) fails the blocking `gx_deliveries` check: no publish."""
    settings = e2e_run.settings
    published = {p: p.read_bytes() for p in (settings.population_file, settings.analyst_file)}
    work = connect(settings.work_db, memory_limit="1GB")
    try:
        work.execute(
            "update ops.deliveries set rows_loaded = rows_loaded - 1 "
            "where delivery_id = (select min(delivery_id) from ops.deliveries where status = 'loaded')"
        )
    finally:
        work.close()
    try:
        with pytest.raises(RunFailedError, match=r"gx_deliveries|blocking"):
            run_all(settings)
        assert {p: p.read_bytes() for p in published} == published
    finally:
        work = connect(settings.work_db, memory_limit="1GB")
        work.execute(
            "update ops.deliveries set rows_loaded = rows_loaded + 1 "
            "where delivery_id = (select min(delivery_id) from ops.deliveries where status = 'loaded')"
        )
        work.close()


def _packet_rows(path) -> list[list]:
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name("问题清单 issues").to_python()[1:]


def test_feedback_packets_list_every_injected_defect_of_the_department(e2e_run: PipelineRun) -> None:
    from pipelines.feeds import registry

    flag_codes = {"SEX_MISMATCH", "BIRTH_DATE_MISMATCH", "NAME_MISMATCH", "MULTIPLE_HUKOU", "ACTIVITY_AFTER_DEATH",
                  "BENEFIT_AFTER_DEATH", "UNDERAGE_MARRIAGE", "BIGAMY", "SAME_SEX_MARRIAGE_RECORD", "SHARES_NOT_100",
                  "NOT_IN_BACKBONE"}
    packets = sorted((e2e_run.settings.warehouse_dir / "feedback").glob("*/*.xlsx"))
    assert packets
    full = _full(e2e_run)
    truth = duckdb.connect()
    defects_file = str(e2e_run.landing / "_truth" / "defects.parquet")
    for feed in registry().feeds:
        (latest,) = full.execute(
            "select max(delivery_date) from deliveries where feed = ? and status = 'loaded'", [feed]).fetchone()
        packet = next(p for p in packets if p.name == f"{feed}_{latest:%Y%m%d}.xlsx")
        rows = _packet_rows(packet)
        listed = {(r[0], int(r[1])) for r in rows if str(r[2]).startswith("quarantine")}
        flagged = {(r[3], r[7]) for r in rows if str(r[2]).startswith("flag")}
        defects = truth.execute(
            "select file, row, expected, citizen_id from read_parquet(?) where feed = ? and delivery_date = ?",
            [defects_file, feed, latest]).fetchall()
        quarantine = {(f, r) for f, r, expected, _ in defects
                      if expected not in flag_codes and expected not in ("REPAIRED", "DUPLICATE")}
        assert quarantine <= listed, f"{feed}: {len(quarantine - listed)} quarantined defects missing"
        expected_flags = {(e, c) for _, _, e, c in defects if e in flag_codes}
        missing = expected_flags - flagged
        assert len(missing) <= 0.05 * max(len(expected_flags), 1), f"{feed}: flags missing {sorted(missing)[:3]}"


def test_every_delivery_gets_a_packet_also_when_a_run_catches_up(e2e_run: PipelineRun) -> None:
    """The e2e run loads three months at once: the older deliveries' quarantined rows reach the department
    too (each in its own packet, without the feed's flags, which the latest packet carries)."""
    packets = {p.name: p for p in (e2e_run.settings.warehouse_dir / "feedback").glob("*/*.xlsx")}
    with connect(e2e_run.settings.work_db, read_only=True, memory_limit="1GB") as work:
        deliveries = work.execute(
            "select d.delivery_id, d.feed, d.delivery_date, d.status, d.feedback_at, "
            "(select count(*) from ops.quarantine as q where q.delivery_id = d.delivery_id) "
            "from ops.deliveries as d where d.status in ('loaded', 'rejected')").fetchall()
        latest = dict(work.execute(
            "select feed, max(delivery_date) from ops.deliveries where status = 'loaded' group by feed").fetchall())
    older = [d for d in deliveries if d[3] == "loaded" and d[2] < latest[d[1]]]
    assert older and any(d[5] for d in older)
    for delivery_id, feed, date, status, feedback_at, quarantined in deliveries:
        suffix = "" if status == "loaded" else f"_rejected_{delivery_id.rsplit('/', 1)[-1][:6]}"
        name = f"{feed}_{date:%Y%m%d}{suffix}.xlsx"
        assert feedback_at is not None and name in packets, name
        if status == "loaded":
            kinds = [str(r[2]) for r in _packet_rows(packets[name])]
            assert sum(k.startswith("quarantine") for k in kinds) == quarantined, name
            if date < latest[feed]:
                assert not any(k.startswith("flag") for k in kinds), name


def test_personal_data_is_closed_to_other_accounts_whatever_the_umask(e2e_run: PipelineRun) -> None:
    """Working folder and feedback packets 0750 (IDs, names); the report, from the analyst snapshot, readable."""
    warehouse = e2e_run.settings.warehouse_dir
    modes = {path: stat.S_IMODE(path.stat().st_mode) for path in [
        e2e_run.settings.work_dir, warehouse / "feedback", *(warehouse / "feedback").glob("*/"),
        warehouse / "report", *(warehouse / "report").glob("*")]}
    assert {p: m for p, m in modes.items() if "report" not in p.parts and m != 0o750} == {}
    assert {p: m for p, m in modes.items() if "report" in p.parts and m not in (0o755, 0o644)} == {}
    assert len(modes) > 4


def _publish_event(run: PipelineRun, run_id: str) -> tuple[dict[str, object], list[str]]:
    """The warehouse_files materialisation's metadata and the run's warning messages."""
    metadata: dict[str, object] = {}
    warnings = []
    for entry in run.instance.all_logs(run_id):
        event = entry.dagster_event
        if event is not None and event.is_step_materialization:
            materialization = event.event_specific_data.materialization
            if materialization.asset_key.path == ["published", "warehouse_files"]:
                metadata = {k: v.value for k, v in materialization.metadata.items()}
        if entry.level >= 30 and entry.user_message:  # logging.WARNING
            warnings.append(entry.user_message)
    return metadata, warnings


def test_a_run_under_another_pseudonym_key_says_so(e2e_run: PipelineRun) -> None:
    """Allowed (a rotation) but reported in the run's log and the publish step's metadata; the key never."""
    other_key = "another-pseudonym-key-0123456789abcdef"
    before, _ = _publish_event(e2e_run, e2e_run.result.run_id)
    assert before["pseudonym_key_changed"] is False
    try:
        rotated = run_all(replace(e2e_run.settings, pseudonym_key=other_key))
        metadata, warnings = _publish_event(e2e_run, rotated.run_id)
    finally:
        run_all(e2e_run.settings)  # the other tests' analyst file is under the fixture's key
    assert metadata["pseudonym_key_changed"] is True and metadata["pseudonym_key_id"] != before["pseudonym_key_id"]
    # the pseudonym store held the other key's pseudonyms: emptied, every person's computed again
    persons = before["pseudonyms"]["person_keys"]
    assert metadata["pseudonyms"]["person_keys"] == {
        "stored": 0, "computed": persons["stored"] + persons["computed"], "removed": 0}
    said = [w for w in warnings if "do not link to earlier versions" in w]
    assert len(said) == 1 and str(before["pseudonym_key_id"]) in said[0]
    assert other_key not in said[0] and e2e_run.settings.pseudonym_key not in said[0]
