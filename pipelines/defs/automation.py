"""Operations in the Dagster UI: the jobs, the schedules and sensors that start them, and failure alerts.

Everything that starts runs on its own is declared here, once, with its default state:

| name | kind | default | what it does |
|---|---|---|---|
| `popbase_full_refresh_monthly` | schedule | STOPPED | 03:00 Asia/Shanghai on the 5th: job `popbase_full_refresh` |
| `popbase_daily_quality_daily` | schedule | STOPPED | 06:30 Asia/Shanghai daily: job `popbase_daily_quality` |
| `popbase_delivery_sensor` | sensor | STOPPED | every 60 s: a run of `ingest_<feed>` per new complete delivery |
| `popbase_run_failure_alert` | sensor | RUNNING | a failed run of this code location → alert (pipelines.lib.alerts) |

A fresh install therefore starts no run by itself: an operator switches the schedules and the delivery
sensor on (UI → Automation, or `dagster schedule start` / `dagster sensor start`, docs/operations.md). The
failure alert is on from the start because it only writes a log line unless a webhook or SMTP is configured.

The delivery sensor never opens DuckDB: it reads manifests only (`pipelines.lib.ingest.complete_deliveries`).
No `from __future__ import annotations` here: Dagster inspects the context and resource annotations at
definition time and rejects string annotations.
"""

import datetime as dt
from pathlib import Path

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition
from dagster_shared.error import SerializableErrorInfo

from pipelines.defs.resources import PopbaseSettings
from pipelines.feeds import Feed, registry
from pipelines.lib.alerts import Alert, alert_config, dispatch
from pipelines.lib.ingest import DeliveryCandidate, complete_deliveries

TIMEZONE = "Asia/Shanghai"
FULL_REFRESH_CRON = "0 3 5 * *"
DAILY_QUALITY_CRON = "30 6 * * *"
DELIVERY_SENSOR_INTERVAL_SECONDS = 60
DAILY_GROUPS = ("intermediate", "marts", "quality", "published")

FULL_REFRESH_JOB_NAME = "popbase_full_refresh"
DAILY_QUALITY_JOB_NAME = "popbase_daily_quality"
DELIVERY_SENSOR_NAME = "popbase_delivery_sensor"
FAILURE_SENSOR_NAME = "popbase_run_failure_alert"

# The one place where the default state of everything that starts runs is decided (see the module docstring).
SCHEDULE_DEFAULT_STATUS = dg.DefaultScheduleStatus.STOPPED
DELIVERY_SENSOR_DEFAULT_STATUS = dg.DefaultSensorStatus.STOPPED
FAILURE_SENSOR_DEFAULT_STATUS = dg.DefaultSensorStatus.RUNNING


def ingest_job_name(feed: str) -> str:
    """The name of the job that ingests and stages one feed: `ingest_<feed>`."""
    return f"ingest_{feed}"


def feed_asset_keys(feed: str) -> list[dg.AssetKey]:
    """`raw/<feed>` and `staging/stg_<feed>`, the assets one delivery touches."""
    return [dg.AssetKey(["raw", feed]), dg.AssetKey(["staging", f"stg_{feed}"])]


def raw_freshness_policy(feed: Feed) -> dg.FreshnessPolicy:
    """Freshness of `raw/<feed>`: WARN after the cadence, FAIL (late) after cadence + grace without a load.

    Dagster measures it from the asset's last materialization; marts.feed_freshness measures the same rule
    from the delivery dates in ops.deliveries (the authoritative late list, see docs/operations.md).
    """
    return dg.FreshnessPolicy.time_window(
        fail_window=dt.timedelta(days=feed.cadence_days + feed.grace_days),
        warn_window=dt.timedelta(days=feed.cadence_days),
    )


def ingest_job(feed: Feed) -> UnresolvedAssetJobDefinition:
    """`ingest_<feed>`: load the feed's new deliveries into raw and stage them (with their checks)."""
    return dg.define_asset_job(
        name=ingest_job_name(feed.name),
        selection=dg.AssetSelection.assets(*feed_asset_keys(feed.name)),
        description=f"Ingest and stage new deliveries of {feed.name} ({feed.title_zh}, {feed.department_zh}).",
        tags={"popbase/job": "ingest", "popbase/feed": feed.name},
    )


full_refresh_job = dg.define_asset_job(
    name=FULL_REFRESH_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description=(
        "Everything once: ingest every feed's new deliveries, stage, rebuild intermediate and marts, run every "
        "check, publish both warehouse files and the report."
    ),
    tags={"popbase/job": "full_refresh"},
)

daily_quality_job = dg.define_asset_job(
    name=DAILY_QUALITY_JOB_NAME,
    selection=dg.AssetSelection.groups(*DAILY_GROUPS) | dg.AssetSelection.all_asset_checks(),
    description=(
        "Daily: rebuild intermediate and marts from what is staged (including marts.feed_freshness, the late "
        "list), run every quality check, the scorecard and feedback packets, publish. Ingests nothing."
    ),
    tags={"popbase/job": "daily_quality"},
)

full_refresh_schedule = dg.ScheduleDefinition(
    name="popbase_full_refresh_monthly",
    job=full_refresh_job,
    cron_schedule=FULL_REFRESH_CRON,
    execution_timezone=TIMEZONE,
    default_status=SCHEDULE_DEFAULT_STATUS,
    tags={"popbase/trigger": "schedule"},
    description="03:00 Asia/Shanghai on the 5th of each month, after the month-end deliveries are due.",
)

daily_quality_schedule = dg.ScheduleDefinition(
    name="popbase_daily_quality_daily",
    job=daily_quality_job,
    cron_schedule=DAILY_QUALITY_CRON,
    execution_timezone=TIMEZONE,
    default_status=SCHEDULE_DEFAULT_STATUS,
    tags={"popbase/trigger": "schedule"},
    description="06:30 Asia/Shanghai every day: checks, marts (the late list) and publish.",
)


def delivery_run_request(candidate: DeliveryCandidate) -> dg.RunRequest:
    """The run for one complete delivery; the run key is its content hash (a changed delivery runs again)."""
    return dg.RunRequest(
        run_key=candidate.content_hash,
        job_name=ingest_job_name(candidate.feed),
        tags={
            "popbase/trigger": "delivery_sensor",
            "popbase/feed": candidate.feed,
            "popbase/delivery_date": candidate.delivery_date.isoformat(),
            "popbase/delivery_id": candidate.delivery_id,
        },
    )


def delivery_run_requests(landing_dir: Path) -> list[dg.RunRequest]:
    """One run request per complete delivery of every feed under `landing_dir`, oldest date first per feed."""
    return [
        delivery_run_request(candidate)
        for feed in registry().feeds.values()
        for candidate in complete_deliveries(landing_dir, feed)
    ]


ingest_jobs = [ingest_job(feed) for feed in registry().feeds.values()]


@dg.sensor(
    name=DELIVERY_SENSOR_NAME,
    jobs=ingest_jobs,
    minimum_interval_seconds=DELIVERY_SENSOR_INTERVAL_SECONDS,
    default_status=DELIVERY_SENSOR_DEFAULT_STATUS,
    description=(
        "Watches POPBASE_LANDING_DIR for complete deliveries (a <feed>/<YYYYMMDD> folder with _MANIFEST.json) and "
        "starts ingest_<feed> for each one not seen before (run key = the delivery's content hash). Reads "
        "manifests only; never opens DuckDB."
    ),
)
def delivery_sensor(context: dg.SensorEvaluationContext, popbase: PopbaseSettings) -> dg.SensorResult:
    """Request an ingest run per complete delivery; Dagster drops requests whose run key already ran."""
    landing = Path(popbase.landing_dir)
    if not landing.is_dir():
        return dg.SensorResult(skip_reason=f"the landing directory {landing} does not exist (POPBASE_LANDING_DIR)")
    requests = delivery_run_requests(landing)
    if not requests:
        return dg.SensorResult(skip_reason=f"no complete delivery (with _MANIFEST.json) under {landing}")
    context.log.info(f"{len(requests)} complete deliveries under {landing}; new content hashes start a run")
    return dg.SensorResult(run_requests=requests)


def error_class(error: SerializableErrorInfo | None) -> str | None:
    """The class of the error that caused a failure: Dagster's wrapper errors are skipped for their cause."""
    wrappers = ("Dagster", "RetryRequested")
    while error is not None and error.cls_name and error.cls_name.startswith(wrappers) and error.cause is not None:
        error = error.cause
    return error.cls_name if error is not None else None


def alert_from_failure(context: dg.RunFailureSensorContext) -> Alert:
    """The alert for a failed run: job, run id, failed steps and error classes — never error messages."""
    steps: list[str] = []
    classes: list[str] = []
    for event in context.get_step_failure_events():
        if event.step_key and event.step_key not in steps:
            steps.append(event.step_key)
        error = event.step_failure_data.error if event.step_failure_data else None
        name = error_class(error)
        if name and name not in classes:
            classes.append(name)
    if not classes:
        classes.append(error_class(getattr(context.failure_event.event_specific_data, "error", None)) or "RunFailure")
    run = context.dagster_run
    tags = {
        k: v
        for k, v in run.tags.items()
        if k.startswith("popbase/") or k in ("dagster/schedule_name", "dagster/sensor_name")
    }
    return Alert(
        job=run.job_name, run_id=run.run_id, failed_steps=tuple(steps), error_classes=tuple(classes), tags=tags
    )


@dg.run_failure_sensor(
    name=FAILURE_SENSOR_NAME,
    default_status=FAILURE_SENSOR_DEFAULT_STATUS,
    minimum_interval_seconds=30,
    description=(
        "On every failed run of this code location: append a JSON line to $DAGSTER_HOME/alerts/alerts.log "
        "(POPBASE_ALERT_LOG) and, when configured, POST to POPBASE_ALERT_WEBHOOK and e-mail via "
        "POPBASE_ALERT_SMTP_*. Names job, run id, failed steps and error classes; no data values."
    ),
)
def run_failure_alert(context: dg.RunFailureSensorContext) -> None:
    """Send the failed run's alert through every configured channel."""
    alert = alert_from_failure(context)
    config = alert_config()
    outcome = dispatch(alert, config)
    context.log.info(f"alert for run {alert.run_id} written to {config.log_path}: {outcome}")


@dg.definitions
def defs() -> dg.Definitions:
    """Jobs, schedules and sensors of the code location."""
    return dg.Definitions(
        jobs=[full_refresh_job, daily_quality_job, *ingest_jobs],
        schedules=[full_refresh_schedule, daily_quality_schedule],
        sensors=[delivery_sensor, run_failure_alert],
    )
