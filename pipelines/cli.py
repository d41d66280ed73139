"""The `popbase` command: generate deliveries, run the pipeline, run the demo, render the report."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pipelines.feeds import PROJECT_ROOT
from pipelines.settings import Settings, SettingsError, load_settings


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_generate(args: argparse.Namespace) -> int:
    from pipelines.lib.generator import generate

    started = time.monotonic()
    summary = generate(
        args.persons,
        args.seed,
        Path(args.out),
        months=args.months,
        progress=_say,
        delivery_defects=args.broken_deliveries,
    )
    _say(
        f"wrote {summary.rows:,} rows ({summary.bytes / 2**20:,.0f} MB) in {len(summary.deliveries)} deliveries "
        + (f"and {summary.broken_deliveries} broken ones (to be rejected) " if summary.broken_deliveries else "")
        + f"to {args.out} "
        f"in {time.monotonic() - started:.1f} s (ground truth in {Path(args.out) / '_truth'})"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.runner import run_all

    settings = load_settings()
    started = time.monotonic()
    run_all(settings, log_level=args.log_level)
    _print_summary(settings, time.monotonic() - started)
    return 0


def _print_summary(settings: Settings, seconds: float) -> None:
    import datetime as dt

    from pipelines.lib.quality.feedback import feedback_dir
    from pipelines.runner import summarise

    s = summarise(settings)
    print(f"\npopbase run finished in {seconds:.1f} s")
    print(f"  full base (restricted): {settings.population_file}")
    print(f"  analyst snapshot:       {settings.analyst_file}")
    report = settings.warehouse_dir / "report" / "population_report.html"
    if report.exists():
        print(f"  population report:      {report}")
    if settings.work_db.exists():
        events = f"{settings.keep_event_months} months of tax events" if settings.keep_event_months else "every event"
        print(f"  working file:           {settings.work_db} ({settings.work_db.stat().st_size / 2**30:.2f} GiB; "
              f"keeps the rows of the newest {settings.keep_snapshots} snapshots per feed and {events})")
    print(
        f"\n  persons known: {s.persons:,}   actual residents (实有人口): {s.actual_residents:,}   "
        f"hukou: {s.in_hukou:,}   floating with registration: {s.floating:,}"
    )
    print("\n  deliveries                          status     received     loaded  duplicate  quarantined")
    for feed, date, status, received, loaded, dup, quar, message in s.deliveries:
        if status == "rejected":
            print(f"  {feed:<20} {date:<14} {status:<9} {message}")
        else:
            print(f"  {feed:<20} {date:<14} {status:<9} {received:>9,} {loaded:>10,} {dup:>10,} {quar:>12,}")
    if s.arriving:
        print("  still arriving (no _MANIFEST.json yet, not read): " + ", ".join(s.arriving))
    if s.quarantine_by_reason:
        print("\n  quarantined rows by reason: " + ", ".join(f"{r} {n:,}" for r, n in s.quarantine_by_reason))
    if s.flags_by_code:
        print("  person flags: " + ", ".join(f"{c} {n:,}" for c, n in s.flags_by_code))
    if s.rules_failed_by_suite:
        print("  quality rules failed, by suite: " + ", ".join(f"{suite} {n}" for suite, n in s.rules_failed_by_suite)
              + f" (which and why: {feedback_dir(settings.warehouse_dir, dt.date.today()) / 'quality_report.html'})")


def cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.lib.generator import generate
    from pipelines.runner import run_all

    demo = PROJECT_ROOT / "var" / "demo"
    landing = demo / "landing"
    os.environ.setdefault("POPBASE_LANDING_DIR", str(landing))
    os.environ.setdefault("POPBASE_WAREHOUSE_DIR", str(PROJECT_ROOT / "var" / "warehouse"))
    os.environ.setdefault("POPBASE_WORK_DIR", str(demo / "work"))
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / "dagster_home"))
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    if not os.environ.get("POPBASE_PSEUDONYM_KEY"):
        key_file = demo / "pseudonym.key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        os.environ["POPBASE_PSEUDONYM_KEY"] = key_file.read_text().strip()
        _say(f"demo: using a local pseudonym key from {key_file} (set POPBASE_PSEUDONYM_KEY in production)")
    settings = load_settings()
    if not (landing / "_truth").exists() or args.regenerate:
        _say(f"demo: generating {args.persons:,} persons (seed {args.seed}) into {landing}")
        generate(args.persons, args.seed, landing, months=args.months, progress=_say, delivery_defects=True)
    else:
        _say(f"demo: reusing the deliveries in {landing} (--regenerate writes them again)")
    started = time.monotonic()
    run_all(settings, log_level=args.log_level)
    _print_summary(settings, time.monotonic() - started)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipelines.lib.report import render_report

    settings = load_settings()
    out = Path(args.out) if args.out else settings.warehouse_dir / "report" / "population_report.html"
    if not settings.analyst_file.exists():
        _say(f"no analyst snapshot at {settings.analyst_file}: run `popbase run` first")
        return 2
    print(render_report(settings.analyst_file, out))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="popbase", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a synthetic delivery set (with ground truth)")
    gen.add_argument("--persons", type=_positive_int, required=True, help="number of synthetic persons")
    gen.add_argument("--seed", type=int, default=1, help="random seed (same seed, same bytes)")
    gen.add_argument("--out", required=True, help="landing directory to write into")
    gen.add_argument("--months", type=_positive_int, default=3, help="monthly deliveries per feed (default 3)")
    gen.add_argument(
        "--broken-deliveries",
        action="store_true",
        help="also write deliveries that must be rejected (renamed column, bad manifest, …)",
    )
    gen.set_defaults(func=cmd_generate)

    run = sub.add_parser("run", help="materialise every asset once and publish (reads POPBASE_* variables)")
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                     help="INFO (default) shows progress per step and delivery; WARNING shows only problems")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="generate a sample delivery set under var/demo and run everything on it")
    demo.add_argument("--persons", type=_positive_int, default=20_000)
    demo.add_argument("--seed", type=int, default=20261129)
    demo.add_argument("--months", type=_positive_int, default=3)
    demo.add_argument("--regenerate", action="store_true", help="write the sample deliveries again")
    demo.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    demo.set_defaults(func=cmd_demo)

    report = sub.add_parser("report", help="render the population report from the analyst snapshot")
    report.add_argument("--out", help="HTML file to write (default: <warehouse>/report/population_report.html)")
    report.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pipelines.runner import RunFailedError

    try:
        return args.func(args)
    except (SettingsError, RunFailedError, ValueError) as exc:
        _say(f"popbase {args.command}: {exc}")
        return 1
    except OSError as exc:
        _say(f"popbase {args.command}: cannot write to {exc.filename or 'the output'}: {exc.strerror}")
        return 1
    except KeyboardInterrupt:
        _say("interrupted")
        return 130


def entry_point() -> None:
    """Console-script entry: exit without tearing down DuckDB's bindings (they print leak notes)."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry_point()
