"""Run the whole asset graph once, in-process, and summarise what was published."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from pipelines.defs.resources import resources_from_settings
from pipelines.feeds import registry
from pipelines.lib.duck import connect, table_exists
from pipelines.lib.files import private_dir
from pipelines.lib.ingest.manifest import arriving_deliveries
from pipelines.lib.pseudonym import PseudonymKeyError, check_key
from pipelines.settings import Settings


class RunFailedError(RuntimeError):
    """The run failed; the message names the step and the reason (never personal data)."""


def load_definitions() -> dg.Definitions:
    """The code location's definitions without environment-bound resources."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)


def _instance() -> dg.DagsterInstance:
    """The DAGSTER_HOME instance when one is set (runs then show in the UI), else an ephemeral one."""
    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def _failure_reason(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            cause = error.cause.message.strip() if error.cause else ""
            return f"step {event.step_key} failed: {error.message.strip()} {cause}".strip()
    skipped = [e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"]
    if skipped:
        return "a blocking quality check failed; skipped: " + ", ".join(sorted(set(filter(None, skipped))))
    return "the run did not succeed"


def run_all(settings: Settings, *, log_level: str = "INFO") -> dg.ExecuteInProcessResult:
    """Materialise every asset and run every check once, in this process (DuckDB steps in sequence)."""
    if not settings.landing_dir.is_dir():
        raise RunFailedError(f"the landing directory {settings.landing_dir} does not exist (POPBASE_LANDING_DIR)")
    for directory in (settings.warehouse_dir, settings.work_dir):
        try:
            if directory == settings.work_dir:
                private_dir(directory)  # the working file holds IDs and names
            else:
                directory.mkdir(parents=True, exist_ok=True)
            probe = directory / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise RunFailedError(f"cannot write to {directory}: {exc.strerror}") from exc
    try:
        check_key(settings.pseudonym_key)
    except PseudonymKeyError as exc:
        raise RunFailedError(f"{exc}: the analyst snapshot's person_key is an HMAC keyed with it") from None
    # The key reaches the publish step through the process environment only, never through run config.
    os.environ["POPBASE_PSEUDONYM_KEY"] = str(settings.pseudonym_key)
    defs = load_definitions()
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks],
        resources=resources_from_settings(settings),
        instance=_instance(),
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        tags={"popbase/trigger": "cli"},
    )
    if not result.success:
        raise RunFailedError(_failure_reason(result))
    return result


@dataclass(frozen=True)
class RunSummary:
    """Headline numbers of a finished run: the published full base and the quality rules that failed (counts
    only, no personal data)."""

    persons: int
    actual_residents: int
    in_hukou: int
    floating: int
    deliveries: list[tuple[str, str, str, int, int, int, int, str]]
    quarantine_by_reason: list[tuple[str, int]]
    flags_by_code: list[tuple[str, int]]
    rules_failed_by_suite: list[tuple[str, int]]
    arriving: list[str]  # "<feed>/<YYYYMMDD>" folders in the landing directory without a manifest yet


def summarise(settings: Settings) -> RunSummary:
    """Count what the analysts will see in the published full base, and the run's failed rules (read-only)."""
    con = connect(settings.population_file, read_only=True, memory_limit="1GB")
    try:
        persons, actual, hukou, floating = con.execute(
            "select count(*), count(*) filter (is_actual_resident), count(*) filter (in_hukou), "
            "count(*) filter (has_residence_registration and not in_hukou) from population_base"
        ).fetchone()
        deliveries = con.execute(
            "select feed, strftime(delivery_date, '%Y-%m-%d'), status, coalesce(rows_received, 0), "
            "coalesce(rows_loaded, 0), coalesce(rows_duplicate, 0), coalesce(rows_quarantined, 0), "
            "coalesce(message, '') from deliveries order by feed, delivery_date"
        ).fetchall()
        reasons = con.execute("select reason_code, count(*) from quarantine group by all order by 2 desc").fetchall()
        flags = con.execute("select flag_code, count(*) from person_flags group by all order by 2 desc").fetchall()
    finally:
        con.close()
    arriving = [f"{feed.name}/{folder.name}" for feed in registry().feeds.values()
                for folder in arriving_deliveries(settings.landing_dir, feed)]
    return RunSummary(persons, actual, hukou, floating, deliveries, reasons, flags, _rules_failed(settings), arriving)


def _rules_failed(settings: Settings) -> list[tuple[str, int]]:
    """Quality rules that failed in the latest run, per suite (from the working file, read-only)."""
    con = connect(settings.work_db, read_only=True, memory_limit="1GB")
    try:
        if not table_exists(con, "quality", "expectation_results"):
            return []
        return con.execute(
            "select suite, count(*) from quality.expectation_results "
            "where run_id = (select arg_max(run_id, run_at) from quality.expectation_results) and not passed "
            "group by suite order by suite"
        ).fetchall()
    finally:
        con.close()
