"""The population layer on staging fixtures: each derived attribute, each flag (a case and a near miss)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.lib.population import person_mentions_model
from pipelines.lib.sql_models import parse_model, run_model
from tests.population_fixtures import StagingFixture, date, make_id

MAN = make_id("330302", "19900101", 123)
WOMAN = make_id("330381", "19920202", 124)
OTHER_MAN = make_id("330382", "19880303", 135)


@pytest.fixture
def fx() -> StagingFixture:
    return StagingFixture()


def test_identity_comes_from_the_id_and_name_from_the_most_trusted_feed(fx: StagingFixture) -> None:
    fx.hukou(MAN, name="张三")
    fx.add("residence_permit", citizen_id=MAN, name="张叁", residence_district_code="330303")
    fx.tax(MAN, "2026-09-01", "1000", name="张3", agent_credit_code="X")
    fx.tax(WOMAN, "2026-09-01", "10", name="李四", agent_credit_code="X")
    fx.build()
    man = fx.person(MAN)
    assert (man["sex"], man["birth_date"], man["name"]) == ("男", date("1990-01-01"), "张三")
    assert man["name_source"] == "hukou/20261031"
    assert man["source_feeds"] == ["hukou", "residence_permit", "tax"]
    assert man["residence_district_code"] == "330303"
    woman = fx.person(WOMAN)
    assert (woman["sex"], woman["name"], woman["in_hukou"]) == ("女", "李四", False)


@pytest.mark.parametrize("spellings", [("李肆", "李四"), ("李四", "李肆")])
def test_a_name_tie_in_one_delivery_is_broken_the_same_way_every_run(
    fx: StagingFixture, spellings: tuple[str, str]
) -> None:
    # two spellings from the same feed and delivery rank equal; the first in code-point order wins,
    # whatever order the rows arrive in
    for name in spellings:
        fx.tax(WOMAN, "2026-09-01", "10", name=name, agent_credit_code=f"X{name}")
    fx.tax(MAN, "2026-09-01", "10", name=" ", agent_credit_code="X")
    fx.build()
    assert (fx.person(WOMAN)["name"], fx.person(WOMAN)["name_source"]) == (min(spellings), "tax/20261031")
    # a person no feed names is still in the base, under their ID, with no name and no name source
    assert (fx.person(MAN)["citizen_id"], fx.person(MAN)["name"], fx.person(MAN)["name_source"]) == (MAN, None, None)


def test_hukou_status_normal_deceased_and_moved_out(fx: StagingFixture) -> None:
    dead, gone = make_id(seq=125), make_id(seq=127)
    fx.hukou(MAN)
    fx.hukou(dead, household_no="H2", person_status="1", status_change_date=date("2026-05-01"))
    fx.hukou(gone, household_no="H3", person_status="2", status_change_date=date("2026-06-01"))
    fx.add(
        "social_insurance",
        person_no="P",
        citizen_id=MAN,
        insurance_type="390",
        insured_status="1",
        last_paid_month=date("2026-10-01"),
        insured_district_code="330302",
    )
    fx.build()
    assert fx.person(MAN)["in_hukou"] and fx.person(MAN)["is_actual_resident"]
    d = fx.person(dead)
    assert (d["in_hukou"], d["is_deceased"], d["death_date"], d["is_actual_resident"]) == (
        False,
        True,
        date("2026-05-01"),
        False,
    )
    g = fx.person(gone)
    assert (g["in_hukou"], g["moved_out"], g["death_date"], g["is_actual_resident"]) == (False, True, None, False)


def _marry(fx: StagingFixture, cert: str, kind: str, on: str, husband: str = MAN, wife: str = WOMAN) -> None:
    fx.add(
        "marriage",
        certificate_no=cert,
        registration_type=kind,
        registration_date=date(on),
        husband_citizen_id=husband,
        husband_name="张三",
        wife_citizen_id=wife,
        wife_name="李四",
        office_district_code="330302",
    )


def test_marital_status_from_events_in_date_order(fx: StagingFixture) -> None:
    single = make_id(seq=129)
    fx.hukou(single)
    _marry(fx, "J1", "结婚登记", "2015-05-01")
    fx.build()
    assert fx.person(MAN)["marital_status"] == "已婚" and fx.person(MAN)["spouse_citizen_id"] == WOMAN
    assert fx.person(WOMAN)["spouse_citizen_id"] == MAN
    assert fx.person(single)["marital_status"] == "未婚"
    _marry(fx, "L1", "离婚登记", "2020-01-01")
    fx.build()
    assert fx.person(MAN)["marital_status"] == "离婚" and fx.person(MAN)["spouse_citizen_id"] is None


def test_annulment_of_a_first_marriage_means_never_married(fx: StagingFixture) -> None:
    _marry(fx, "J1", "结婚登记", "2015-05-01")
    _marry(fx, "C1", "撤销婚姻", "2015-09-01")
    fx.build()
    assert fx.person(MAN)["marital_status"] == "未婚"


def test_spouse_death_makes_the_survivor_widowed(fx: StagingFixture) -> None:
    fx.hukou(WOMAN, household_no="H1", relation_code="10", person_status="1", status_change_date=date("2025-01-01"))
    fx.hukou(MAN)
    _marry(fx, "J1", "结婚登记", "2015-05-01")
    fx.build()
    assert fx.person(MAN)["marital_status"] == "丧偶" and fx.person(MAN)["spouse_citizen_id"] is None


def test_education_insurance_income_and_property(fx: StagingFixture) -> None:
    fx.hukou(MAN)
    fx.add(
        "education",
        student_no="S1",
        citizen_id=MAN,
        student_status="毕业",
        attainment_code="21",
        school_district_code="330302",
        enrolment_date=date("2008-09-01"),
    )
    fx.add(
        "education",
        student_no="S2",
        citizen_id=MAN,
        student_status="毕业",
        attainment_code="14",
        school_district_code="330302",
        enrolment_date=date("2012-09-01"),
    )
    fx.add(
        "education",
        student_no="S3",
        citizen_id=MAN,
        student_status="在读",
        attainment_code=None,
        school_district_code="330302",
        enrolment_date=date("2025-09-01"),
    )
    for kind, status, months, benefit in [("110", "1", 120, "0"), ("310", "1", 130, "0"), ("210", "3", 30, "0")]:
        fx.add(
            "social_insurance",
            person_no="P",
            citizen_id=MAN,
            insurance_type=kind,
            insured_status=status,
            months_paid=months,
            benefit_status=benefit,
            last_paid_month=date("2026-10-01"),
            insured_district_code="330302",
        )
    for period, amount in [("2025-10-01", "999"), ("2025-11-01", "100"), ("2026-10-01", "200.50")]:
        fx.tax(MAN, period, amount)
    for unit, status in [("U1", "现势"), ("U2", "现势"), ("U3", "注销")]:
        fx.add(
            "property",
            unit_no=unit,
            owner_id_type="居民身份证",
            owner_id_number=MAN,
            owner_citizen_id=MAN,
            owner_name="张三",
            co_ownership="单独所有",
            title_status=status,
            registration_date=date("2020-01-01"),
        )
    fx.build()
    p = fx.person(MAN)
    assert p["highest_education_code"] == "14" and p["in_school"]
    assert (p["pension_insured"], p["medical_insured"], p["insured_months"], p["receiving_pension"]) == (
        True,
        True,
        130,
        False,
    )
    assert p["income_last_12m"] == Decimal("300.50")  # 2025-10 is outside the 12 periods up to 2026-10
    assert p["property_units"] == 2


def test_pension_being_paid(fx: StagingFixture) -> None:
    fx.add(
        "social_insurance",
        person_no="P",
        citizen_id=MAN,
        insurance_type="110",
        insured_status="3",
        months_paid=400,
        benefit_status="1",
        insured_district_code="330302",
    )
    fx.build()
    assert fx.person(MAN)["receiving_pension"] and not fx.person(MAN)["pension_insured"]


def test_latest_delivery_wins_for_re_sent_tax_events(fx: StagingFixture) -> None:
    for day, amount in [("2026-09-30", "100"), ("2026-10-31", "150")]:
        fx.tax(MAN, "2026-08-01", amount, date=day)
    fx.build()
    assert fx.person(MAN)["income_last_12m"] == Decimal("150")


def test_tax_persons_read_only_the_income_periods_the_base_uses(fx: StagingFixture) -> None:
    """Income older than both the 12 periods and the window leaves no trace; the latest period picks the office."""
    fx.tax(MAN, "2024-03-01", "500", tax_office_district_code="330381")  # two years before: read no more
    fx.tax(WOMAN, "2025-10-01", "40", tax_office_district_code="330381")  # 13th period back: outside both
    fx.tax(WOMAN, "2025-11-01", "60", tax_office_district_code="330381")
    fx.tax(WOMAN, "2026-08-01", "100", tax_office_district_code="330304")
    fx.build()
    rows = fx.con.execute(
        "select citizen_id, income_last_12m, taxed_recently, tax_district_code from intermediate.int_tax_persons"
    ).fetchall()
    assert rows == [(WOMAN, Decimal("160"), True, "330304")]
    man = fx.person(MAN)
    assert man["income_last_12m"] == 0 and man["residence_district_code"] is None and not man["is_actual_resident"]
    assert fx.person(WOMAN)["residence_district_code"] == "330304"


def test_actual_population_rule(fx: StagingFixture) -> None:
    away = make_id(birth="19800101", seq=131)  # hukou here, working age, no activity: lives elsewhere
    child = make_id(birth="20230101", seq=133)  # hukou here, exempt by age
    migrant = make_id("110101", "19850101", 137)  # residence registration, valid permit
    expired = make_id("110101", "19850101", 139)  # residence permit expired
    worker = make_id("110101", "19950101", 141)  # no registration at all, but insured and paying here
    fx.hukou(away, household_no="H9")
    fx.hukou(child, household_no="H9", relation_code="20")
    fx.add(
        "residence_permit",
        citizen_id=migrant,
        name="王五",
        residence_district_code="330303",
        permit_valid_until=date("2027-01-01"),
    )
    fx.add(
        "residence_permit",
        citizen_id=expired,
        name="赵六",
        residence_district_code="330303",
        permit_valid_until=date("2026-01-01"),
    )
    fx.add(
        "social_insurance",
        person_no="P",
        citizen_id=worker,
        insurance_type="110",
        insured_status="1",
        last_paid_month=date("2026-09-01"),
        insured_district_code="330302",
    )
    fx.build()
    counted = {c: fx.person(c)["is_actual_resident"] for c in (away, child, migrant, expired, worker)}
    assert counted == {away: False, child: True, migrant: True, expired: False, worker: True}


def test_flags_sex_and_birth_date_mismatch(fx: StagingFixture) -> None:
    fx.hukou(MAN, sex="女", birth_date=date("1990-01-01"))
    fx.add("residence_permit", citizen_id=WOMAN, name="李四", sex="女", birth_date=date("1992-02-03"))
    fx.build()
    assert fx.flags("SEX_MISMATCH") == [MAN]
    assert fx.flags("BIRTH_DATE_MISMATCH") == [WOMAN]


def test_flag_name_mismatch_takes_the_hukou_name_when_both_registers_name_the_person(fx: StagingFixture) -> None:
    fx.hukou(MAN, name="张三")
    fx.add("residence_permit", citizen_id=MAN, name="张叁", residence_district_code="330303")
    fx.tax(MAN, "2026-09-01", "1", name="张三", agent_credit_code="A")
    fx.tax(MAN, "2026-09-01", "1", name="张叁", agent_credit_code="B")
    fx.build()
    found = fx.con.execute(
        "select feed, count(*) from marts.person_flags where flag_code = 'NAME_MISMATCH' group by feed order by feed"
    ).fetchall()
    assert found == [("residence_permit", 1), ("tax", 1)]


def test_flag_name_mismatch_ignores_harmless_variants(fx: StagingFixture) -> None:
    minority = make_id(seq=143)
    fx.hukou(MAN, name="张三")
    fx.hukou(minority, household_no="H2", name="买买提·艾力")
    fx.tax(MAN, "2026-09-01", "1", name="張三")
    fx.add("education", student_no="S", citizen_id=minority, name="买买提.艾力　", school_district_code="330302")
    fx.add(
        "social_insurance",
        person_no="P",
        citizen_id=minority,
        name="买买提•艾力",
        insurance_type="390",
        insured_status="1",
        insured_district_code="330302",
    )
    fx.build()
    assert fx.flags("NAME_MISMATCH") == [MAN]


def test_flag_multiple_hukou(fx: StagingFixture) -> None:
    """A person in several households is flagged and represented by the registration with status normal,
    then the lowest household number; household_count keeps how many there are."""
    fx.hukou(MAN, household_no="H0", person_status="2", status_change_date=date("2026-03-15"))
    fx.hukou(MAN, household_no="H2", relation_code="20")
    fx.hukou(MAN, household_no="H1")
    fx.hukou(WOMAN, household_no="H1", relation_code="10")
    fx.build()
    assert fx.flags("MULTIPLE_HUKOU") == [MAN]
    rows = fx.con.execute(
        "select citizen_id, household_no, household_count from intermediate.int_hukou_persons order by all"
    ).fetchall()
    assert sorted(rows) == sorted([(MAN, "H1", 3), (WOMAN, "H1", 1)])
    assert fx.person(MAN)["household_no"] == "H1"


def test_flags_activity_and_benefit_after_death(fx: StagingFixture) -> None:
    fx.hukou(MAN, person_status="1", status_change_date=date("2026-03-15"))
    fx.hukou(WOMAN, household_no="H2", person_status="1", status_change_date=date("2026-03-15"))
    for who, period in [(MAN, "2026-05-01"), (WOMAN, "2026-03-01")]:  # WOMAN: wages for the month of death
        fx.tax(who, period, "1", name="x")
    fx.add(
        "social_insurance",
        person_no="P",
        citizen_id=MAN,
        insurance_type="110",
        insured_status="3",
        benefit_status="1",
        insured_district_code="330302",
    )
    fx.add(
        "social_insurance",
        person_no="P",
        citizen_id=WOMAN,
        insurance_type="110",
        insured_status="3",
        benefit_status="2",
        insured_district_code="330302",
    )
    fx.build()
    assert fx.flags("ACTIVITY_AFTER_DEATH") == [MAN]
    assert fx.flags("BENEFIT_AFTER_DEATH") == [MAN]


def test_flag_underage_marriage(fx: StagingFixture) -> None:
    young = make_id(birth="20050601", seq=145)  # man, 21 on 2026-06-01
    adult = make_id(birth="20040601", seq=146)  # woman, 22
    _marry(fx, "J1", "结婚登记", "2026-06-01", husband=young, wife=adult)
    just = make_id(birth="20040601", seq=147)  # man, exactly 22 on the day: legal
    _marry(fx, "J2", "结婚登记", "2026-06-01", husband=just, wife=make_id(birth="20060601", seq=148))
    fx.build()
    assert fx.flags("UNDERAGE_MARRIAGE") == [young]


def test_flag_bigamy_and_its_near_miss(fx: StagingFixture) -> None:
    second_wife = make_id("330303", "19930303", 150)
    _marry(fx, "J1", "结婚登记", "2015-05-01")
    _marry(fx, "J2", "结婚登记", "2018-05-01", wife=second_wife)
    remarried = make_id(seq=151)
    w1, w2 = make_id(seq=152), make_id(seq=154)
    _marry(fx, "J3", "结婚登记", "2010-01-01", husband=remarried, wife=w1)
    _marry(fx, "L3", "离婚登记", "2012-01-01", husband=remarried, wife=w1)
    _marry(fx, "J4", "结婚登记", "2013-01-01", husband=remarried, wife=w2)
    fx.build()
    assert fx.flags("BIGAMY") == [MAN]


def test_flag_same_sex_marriage_record(fx: StagingFixture) -> None:
    _marry(fx, "J1", "结婚登记", "2015-05-01", wife=OTHER_MAN)
    _marry(fx, "J2", "结婚登记", "2015-05-01", husband=make_id(seq=155), wife=make_id(seq=156))
    fx.build()
    assert fx.flags("SAME_SEX_MARRIAGE_RECORD") == sorted([MAN, OTHER_MAN])


def test_flag_shares_not_100(fx: StagingFixture) -> None:
    for unit, owner, share in [("U1", MAN, 0.5), ("U1", WOMAN, 0.4), ("U2", MAN, 0.5), ("U2", WOMAN, 0.5)]:
        fx.add(
            "property",
            unit_no=unit,
            owner_id_type="居民身份证",
            owner_id_number=owner,
            owner_citizen_id=owner,
            owner_name="x",
            co_ownership="按份共有",
            share=share,
            title_status="现势",
            registration_date=date("2020-01-01"),
        )
    fx.build()
    assert fx.flags("SHARES_NOT_100") == sorted([MAN, WOMAN])


def test_flag_shares_not_100_skips_units_with_a_quarantined_owner_row(fx: StagingFixture) -> None:
    # U3's second owner row is in quarantine: the loaded 50% is not the whole story, so no flag
    fx.add(
        "property",
        unit_no="U3",
        owner_id_type="居民身份证",
        owner_id_number=MAN,
        owner_citizen_id=MAN,
        owner_name="x",
        co_ownership="按份共有",
        share=0.5,
        title_status="现势",
        registration_date=date("2020-01-01"),
    )
    fx.quarantined(
        "property",
        "ID_CHECKSUM",
        unit_no=" U3",
        owner_id_type="居民身份证",
        owner_id_number="330302199001011230",
        co_ownership="按份共有",
        share="50%",
    )
    fx.build()
    assert fx.flags("SHARES_NOT_100") == []


def test_residence_district_only_for_counted_residents(fx: StagingFixture) -> None:
    away = make_id(birth="19800101", seq=131)  # hukou here, no sign of activity: not counted
    here = make_id(birth="19800101", seq=133)  # hukou here and insured here
    unregistered = make_id("110101", "19950101", 141)  # in neither register, insured in 330304
    fx.hukou(away, household_no="H1", hukou_district_code="330303")
    fx.hukou(here, household_no="H2", hukou_district_code="330303")
    for person, district in ((here, "330302"), (unregistered, "330304")):
        fx.add(
            "social_insurance",
            person_no=person,
            citizen_id=person,
            insurance_type="110",
            insured_status="1",
            months_paid=12,
            last_paid_month=date("2026-09-01"),
            insured_district_code=district,
        )
    fx.build()
    assert fx.person(away)["residence_district_code"] is None
    assert fx.person(away)["insured_months"] == 0
    assert fx.person(here)["residence_district_code"] == "330303"  # hukou address before the workplace
    assert fx.person(unregistered)["residence_district_code"] == "330304"
    assert fx.person(unregistered)["residence_source"].startswith("social_insurance/")


def test_flag_not_in_backbone(fx: StagingFixture) -> None:
    fx.hukou(MAN)
    fx.add(
        "social_insurance",
        person_no="P",
        citizen_id=MAN,
        insurance_type="110",
        insured_status="1",
        insured_district_code="330302",
    )
    fx.add(
        "social_insurance",
        person_no="Q",
        citizen_id=WOMAN,
        insurance_type="110",
        insured_status="1",
        insured_district_code="330302",
    )
    fx.build()
    assert fx.flags("NOT_IN_BACKBONE") == [WOMAN]


def test_households_and_relations(fx: StagingFixture) -> None:
    child, father = make_id(birth="20150101", seq=157), make_id(birth="19600101", seq=159)
    fx.hukou(MAN, household_no="H1", relation_code="02")
    fx.hukou(WOMAN, household_no="H1", relation_code="10")
    fx.hukou(child, household_no="H1", relation_code="20")
    fx.hukou(father, household_no="H1", relation_code="51")
    _marry(fx, "J1", "结婚登记", "2014-05-01")
    fx.build()
    heads = fx.con.execute("select citizen_id from marts.households where is_head").fetchall()
    assert heads == [(MAN,)]
    rel = set(fx.con.execute("select citizen_id, related_citizen_id, relation from marts.person_relations").fetchall())
    assert {
        (MAN, child, "parent"),
        (WOMAN, child, "parent"),
        (child, MAN, "child"),
        (father, MAN, "parent"),
        (MAN, WOMAN, "spouse"),
        (WOMAN, MAN, "spouse"),
    } <= rel


def test_population_as_of_returns_the_earlier_state(fx: StagingFixture) -> None:
    fx.hukou(MAN, date="2026-09-30")
    fx.hukou(MAN, date="2026-10-31", person_status="2", status_change_date=date("2026-10-10"))
    fx.hukou(WOMAN, date="2026-10-31", household_no="H2")
    fx.build()
    before = fx.con.execute(
        "select citizen_id, in_hukou, moved_out from marts.population_as_of(date '2026-10-15')"
    ).fetchall()
    after = fx.con.execute(
        "select citizen_id, in_hukou, moved_out from marts.population_as_of(date '2026-11-01') order by 1"
    ).fetchall()
    assert before == [(MAN, True, False)]
    assert sorted(after) == sorted([(MAN, False, True), (WOMAN, True, False)])


def test_rejected_or_later_snapshot_is_not_in_force(fx: StagingFixture) -> None:
    fx.hukou(MAN, date="2026-09-30")
    fx.hukou(WOMAN, date="2026-10-31", household_no="H2")
    fx.con.execute("update ops.deliveries set status = 'rejected' where delivery_date = '2026-10-31'")
    fx.build(reference_date="2026-10-31")
    assert fx.con.execute("select count(*) from marts.population_base").fetchone()[0] == 1
    assert fx.person(MAN)["in_hukou"]


def _history(fx: StagingFixture) -> list[tuple]:
    return fx.con.execute("select * from marts.population_history order by all").fetchall()


def test_population_history_built_month_by_month_equals_a_rebuild(fx: StagingFixture) -> None:
    """Each month's build reads only the open intervals and the newer snapshots, and ends with the same
    rows as a rebuild from every snapshot; a replaced snapshot makes it rebuild."""
    mover, leaver, dead = make_id(seq=125), make_id(seq=127), make_id(seq=129)
    months = ["2026-07-31", "2026-08-31", "2026-09-30", "2026-10-31"]
    for i, month in enumerate(months):
        fx.hukou(MAN, date=month)
        fx.hukou(mover, date=month, household_no="H2", hukou_district_code="330302" if i < 2 else "330303")
        if i != 1:  # absent in August, back in September
            fx.hukou(leaver, date=month, household_no="H3")
        fx.hukou(dead, date=month, household_no="H4", person_status="1" if i == 3 else "0")
        if i < 3:  # no residence snapshot in October: September's stays in force
            fx.add("residence_permit", date=month, citizen_id=WOMAN, residence_district_code="330381")
    for month in months:
        fx.build(reference_date=month)
    monthly = _history(fx)
    fx.con.execute("delete from ops.population_history_sources")
    fx.build(reference_date=months[-1])
    assert _history(fx) == monthly
    fx.con.execute("drop table marts.population_history")
    fx.build(reference_date=months[-1])
    assert _history(fx) == monthly
    assert (leaver, date("2026-07-31"), date("2026-08-31")) in [r[:3] for r in monthly]
    assert (mover, date("2026-09-30"), None) in [r[:3] for r in monthly]

    # incremental: with July–September's hukou rows gone, October's build still gives the same rows
    fx.build(reference_date=months[2])
    fx.con.execute("delete from staging.stg_hukou where delivery_date < '2026-09-30'")
    fx.build(reference_date=months[-1])
    assert _history(fx) == monthly

    # a replaced September snapshot (new delivery id) is seen and the table rebuilt
    fx.con.execute("update ops.deliveries set status = 'superseded' where delivery_id = 'hukou/20260930/fixture'")
    fx.build(reference_date=months[-1])
    assert not any(r[1] == date("2026-09-30") and r[0] == mover for r in _history(fx))


def _tax_events(fx: StagingFixture) -> list[tuple]:
    return fx.con.execute("select * from intermediate.int_tax_events_latest order by all").fetchall()


def test_tax_events_built_month_by_month_equal_a_rebuild(fx: StagingFixture) -> None:
    """Each month's build reads only the new tax deliveries: their corrections replace the rows with the
    same key, the rest is kept, and the rows equal a rebuild from every delivery; a replaced delivery makes
    it rebuild. An income period after the reference date counts once the reference date reaches it."""
    other = make_id(seq=131)
    months = ["2026-08-31", "2026-09-30", "2026-10-31", "2026-11-30"]
    for i, month in enumerate(months):
        fx.tax(MAN, f"2026-{7 + i:02d}-01", "100", date=month)
        fx.tax(other, "2026-07-01", str(10 + i), date=month)  # corrected every month: the latest wins
    fx.tax(MAN, "2026-12-01", "7", date=months[1], agent_credit_code="FUTURE")
    for month in months:
        fx.build(reference_date=month)
        if month == months[1]:
            assert fx.person(MAN)["income_last_12m"] == Decimal("200")  # December not counted yet
    monthly = _tax_events(fx)
    assert len(monthly) == 6
    assert next(r for r in monthly if r[6] == other)[9] == Decimal("13")
    fx.con.execute("delete from ops.tax_events_latest_sources")
    fx.build(reference_date=months[-1])
    assert _tax_events(fx) == monthly

    # incremental: with August–October's rows gone from staging, November's build gives the same rows
    fx.build(reference_date=months[2])
    fx.con.execute("delete from staging.stg_tax where delivery_date < '2026-11-30'")
    fx.build(reference_date=months[-1])
    assert _tax_events(fx) == monthly
    fx.build(reference_date="2026-12-31")
    assert fx.person(MAN)["income_last_12m"] == Decimal("407")

    # a rejected November delivery is seen: the table is rebuilt from what is still in force
    fx.con.execute("update ops.deliveries set status = 'rejected' where delivery_id = 'tax/20261130/fixture'")
    fx.build(reference_date=months[-1])
    assert _tax_events(fx) == []


def test_person_mentions_is_a_view_and_replaces_an_earlier_table(fx: StagingFixture) -> None:
    """The mentions are a view (cheap to compute, costly to write); a working file that still holds them as a
    table, from before they became one, builds too, and a model that is a table again replaces the view."""
    fx.hukou(MAN)
    fx.build()
    kind = "select table_type from information_schema.tables where table_name = 'int_person_mentions'"
    assert fx.con.execute(kind).fetchall() == [("VIEW",)]
    mentions = fx.con.execute("select * from intermediate.int_person_mentions").fetchall()
    fx.con.execute("drop view intermediate.int_person_mentions")
    fx.con.execute("create table intermediate.int_person_mentions as select 1 as stale")
    fx.build()
    assert fx.con.execute(kind).fetchall() == [("VIEW",)]
    assert fx.con.execute("select * from intermediate.int_person_mentions").fetchall() == mentions
    assert fx.person(MAN)["name"] is not None

    as_table = replace(person_mentions_model(), materialized="table",
                       sql=person_mentions_model().sql.replace("create or replace view", "create or replace table"))
    run_model(fx.con, as_table, {})
    assert fx.con.execute(kind).fetchall() == [("BASE TABLE",)]


def test_a_model_file_declares_its_kind(tmp_path: Path) -> None:
    model = tmp_path / "m.sql"
    model.write_text("-- grain: one row per x\n-- materialized: view\ncreate or replace view intermediate.m as "
                     "select 1")
    assert parse_model(model).materialized == "view"
    model.write_text("-- grain: one row per x\ncreate or replace table intermediate.m as select 1")
    assert parse_model(model).materialized == "table"
    model.write_text("-- grain: one row per x\n-- materialized: parquet\nselect 1")
    with pytest.raises(ValueError, match="materialized"):
        parse_model(model)
