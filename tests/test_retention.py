"""Snapshot retention and the population history it relies on, on staging fixtures (no Dagster)."""

from __future__ import annotations

import pytest

from pipelines.lib.population import build_population
from pipelines.lib.retention import RetentionError, prune_event_periods, prune_snapshots
from pipelines.lib.sql_models import ModelError
from pipelines.settings import load_settings
from tests.population_fixtures import StagingFixture, date, make_id

MAN = make_id("330302", "19900101", 123)
MOVER = make_id("330302", "19850505", 125)
STUDENT = make_id("330381", "20100101", 127)
MONTHS = ["2026-07-31", "2026-08-31", "2026-09-30", "2026-10-31"]


def _deliver(fx: StagingFixture, month: str) -> None:
    """One month: hukou, residence registration and education snapshots and a tax event delivery."""
    i = MONTHS.index(month) if month in MONTHS else len(MONTHS)
    fx.hukou(MAN, date=month)
    fx.hukou(MOVER, date=month, household_no="H2", hukou_district_code="330302" if i < 2 else "330303")
    fx.add("residence_permit", date=month, citizen_id=MOVER, residence_district_code="330381" if i < 3 else "330382")
    fx.add("education", date=month, citizen_id=STUDENT, student_no="S1", student_status="在读",
           school_district_code="330381")
    fx.tax(MAN, f"2026-{6 + i:02d}-01", "100", date=month, agent_credit_code="A")


def _history(fx: StagingFixture) -> list[tuple]:
    return fx.con.execute("select * from marts.population_history order by all").fetchall()


def _base(fx: StagingFixture) -> list[tuple]:
    return fx.con.execute("select * from marts.population_base order by citizen_id").fetchall()


def _rows(fx: StagingFixture, table: str, delivery_id: str) -> int:
    return fx.con.execute(f"select count(*) from {table} where delivery_id = ?", [delivery_id]).fetchone()[0]


def test_history_resumes_before_a_late_snapshot_with_the_rows_of_a_rebuild() -> None:
    """A snapshot dated before the newest one held is read with the ones after it, and the intervals that
    ended before it are kept (July's rows are gone from staging and not needed): the rows of a rebuild."""
    monthly, rebuilt = StagingFixture(), StagingFixture()
    for month in (MONTHS[0], MONTHS[2], MONTHS[3]):
        _deliver(monthly, month)
        monthly.build(reference_date=month)
    _deliver(monthly, MONTHS[1])  # August arrives late
    for table in ("stg_hukou", "stg_residence_permit"):
        monthly.con.execute(f"delete from staging.{table} where delivery_date <= '2026-07-31'")
    monthly.build(reference_date=MONTHS[3])
    for month in MONTHS:
        _deliver(rebuilt, month)
    rebuilt.build(reference_date=MONTHS[3])
    assert _history(monthly) == _history(rebuilt)
    assert (MOVER, date("2026-09-30"), date("2026-10-31")) in [r[:3] for r in _history(rebuilt)]


def test_retention_prunes_old_snapshots_and_changes_nothing_built() -> None:
    fx, unpruned = StagingFixture(), StagingFixture()
    fx.quarantined("hukou", "ID_CHECK_DIGIT", date=MONTHS[0], citizen_id="330302199001011230")
    for month in MONTHS:
        for f in (fx, unpruned):
            _deliver(f, month)
            f.build(reference_date=month)
    base, history = _base(fx), _history(fx)

    pruned = prune_snapshots(fx.con, keep=2, reference_date=date(MONTHS[3]))

    old = ["20260731", "20260831"]
    assert pruned.deliveries == {
        feed: [f"{feed}/{d}/fixture" for d in old] for feed in ("education", "hukou", "residence_permit")
    }
    assert pruned.staged_rows["hukou"] == 4 and pruned.raw_rows["hukou"] == 1
    assert _rows(fx, "staging.stg_hukou", "hukou/20260731/fixture") == 0
    assert _rows(fx, "raw.hukou", "hukou/20260731/fixture") == 0
    assert _rows(fx, "ops.quarantine", "hukou/20260731/fixture") == 1  # the department's list stays
    assert _rows(fx, "staging.stg_tax", "tax/20260731/fixture") == 1  # events stay in force
    assert fx.con.execute("select count(*) from ops.deliveries where pruned_at is not null").fetchone()[0] == 6
    assert prune_snapshots(fx.con, keep=2, reference_date=date(MONTHS[3])).deliveries == {}

    fx.build(reference_date=MONTHS[3])
    assert (_base(fx), _history(fx)) == (base, history)
    for f in (fx, unpruned):  # the next month reads one month, as before
        _deliver(f, "2026-11-30")
        f.build(reference_date="2026-11-30")
    assert _history(fx) == _history(unpruned)
    assert _base(fx) == _base(unpruned)


def test_what_needs_a_pruned_snapshot_fails_and_says_why() -> None:
    fx = StagingFixture()
    for month in MONTHS:
        _deliver(fx, month)
        fx.build(reference_date=month)
    prune_snapshots(fx.con, keep=1, reference_date=date(MONTHS[3]))
    with pytest.raises(ModelError, match=r"snapshot of 2026-08-31 is in force.*retention pruned"):
        fx.build(reference_date=MONTHS[1])
    fx.hukou(MAN, date="2026-08-15")  # late: the history would need July's rows
    with pytest.raises(ModelError, match="from the hukou snapshot of 2026-07-31, whose rows retention pruned"):
        fx.build(reference_date=MONTHS[3])


def test_retention_keeps_at_least_one_and_waits_for_the_history() -> None:
    fx = StagingFixture()
    with pytest.raises(ValueError, match="at least 1"):
        prune_snapshots(fx.con, keep=0, reference_date=date(MONTHS[0]))
    with pytest.raises(RetentionError, match="population_history has not been built"):
        prune_snapshots(fx.con, keep=1, reference_date=date(MONTHS[0]))


def test_a_working_file_from_before_retention_is_upgraded_by_the_models() -> None:
    """The office's daily job builds the models without ingesting first: the ledger gains `pruned_at` there."""
    fx = StagingFixture()
    fx.con.execute("alter table ops.deliveries drop column pruned_at")
    _deliver(fx, MONTHS[0])
    fx.build(reference_date=MONTHS[0])
    assert fx.con.execute("select count(*) from ops.deliveries where pruned_at is null").fetchone()[0] > 0


def _tax_periods(fx: StagingFixture, table: str) -> list[str]:
    rows = fx.con.execute(f"select strftime(income_period, '%Y-%m') from {table} order by all").fetchall()
    return [r[0] for r in rows]


def test_event_retention_prunes_income_periods_the_base_no_longer_reads() -> None:
    """Periods before the 12 up to the reference month leave staging, raw (the rows they were staged from) and
    int_tax_events_latest; the base does not change; quarantined rows and their records stay."""
    fx = StagingFixture()
    for i, period in enumerate(["2024-09-01", "2025-09-01", "2025-10-01", "2025-11-01", "2026-10-01"]):
        fx.tax(MAN, period, "100", agent_credit_code=f"A{i}")
    fx.quarantined("tax", "AMOUNT_INVALID", income_period="2024-09", income_amount="x")
    fx.quarantined("tax", "AMOUNT_INVALID", income_period="202610", income_amount="x")
    fx.con.execute(  # the raw rows the staged ones came from
        "insert into raw.tax (delivery_id, source_file, source_row, income_period) "
        "select delivery_id, source_file, source_row, strftime(income_period, '%Y-%m') from staging.stg_tax"
    )
    fx.build()
    base = _base(fx)

    pruned = prune_event_periods(fx.con, keep_months=12, reference_date=date("2026-10-31"), window_months=12)

    assert pruned.kept_from == date("2025-10-01")
    assert (pruned.staged_rows, pruned.raw_rows) == ({"tax": 2}, {"tax": 2})
    assert _tax_periods(fx, "staging.stg_tax") == ["2025-10", "2025-11", "2026-10"]
    raw = fx.con.execute("select income_period from raw.tax order by all").fetchall()
    assert raw == [("2024-09",), ("2025-10",), ("2025-11",), ("2026-10",), ("202610",)]  # quarantined rows stay
    assert fx.con.execute("select count(*) from ops.quarantine").fetchone()[0] == 2
    settings = load_settings({"POPBASE_REFERENCE_DATE": "2026-10-31", "POPBASE_KEEP_EVENT_MONTHS": "12"})
    build_population(fx.con, settings)  # the incremental table resumes and drops the same periods
    assert _tax_periods(fx, "intermediate.int_tax_events_latest") == ["2025-10", "2025-11", "2026-10"]
    assert _base(fx) == base


def test_event_retention_never_prunes_what_the_window_reads() -> None:
    fx = StagingFixture()
    fx.tax(MAN, "2025-03-01", "100")
    pruned = prune_event_periods(fx.con, keep_months=12, reference_date=date("2026-10-31"), window_months=24)
    assert pruned.kept_from == date("2024-10-01") and pruned.staged_rows == {"tax": 0}
