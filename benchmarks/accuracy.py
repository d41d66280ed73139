"""Measure the published population base against the generator's ground truth (DuckDB only).

    .venv/bin/python benchmarks/accuracy.py --landing DIR --population-file FILE [--out benchmarks/results/accuracy]

DIR is a landing directory written by `popbase generate` (it holds `_truth/persons.parquet` and
`_truth/defects.parquet`, see `_truth/README.md`); FILE is the published full `population.duckdb`, attached
read-only. Writes `<out>.json` and `<out>.md` when --out is given, and prints the markdown.

What is measured (all set-based SQL):

- attributes: for each column of population_base, the share of persons whose base value equals the truth,
  over persons the truth says appear in some feed, excluding persons named in a defect whose row is lost
  (a quarantine-type `expected` in a delivery whose rows are in force) or who carry a flag from an appended
  row (MULTIPLE_HUKOU, BIGAMY, …): for them the delivered data legitimately differ from the clean truth.
  A person missing from the base counts as a disagreement; coverage is reported separately.
- quarantine: recall and precision of each reason code, matching ops quarantine rows to defects on
  (feed, delivery_date, file, row); REPAIRED rows must be loaded (not quarantined), DUPLICATE rows counted
  in deliveries.rows_duplicate.
- flags: recall and precision of each flag code, matching person_flags to defects on (citizen_id,
  flag_code, feed) — NOT_IN_BACKBONE on (citizen_id, flag_code), since the base raises it once per person —
  over defects in deliveries in force on the reference date (the last snapshot, every event delivery).
- the actual population (实有人口): against truth `lives_in_city`, the share of true residents the base
  leaves out and the share of counted persons who are not true residents.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import duckdb

RESULTS = Path(__file__).resolve().parent / "results"

QUARANTINE_REASONS = (
    "ID_MISSING",
    "ID_MALFORMED",
    "ID_CHECKSUM",
    "ID_BIRTH_DATE",
    "ID_REGION",
    "ID_PRECISION_LOST",
    "DATE_INVALID",
    "VALUE_INVALID",
    "KEY_CONFLICT",
    "ROW_MALFORMED",
)
FLAG_CODES = (
    "SEX_MISMATCH",
    "BIRTH_DATE_MISMATCH",
    "NAME_MISMATCH",
    "MULTIPLE_HUKOU",
    "ACTIVITY_AFTER_DEATH",
    "BENEFIT_AFTER_DEATH",
    "UNDERAGE_MARRIAGE",
    "BIGAMY",
    "SAME_SEX_MARRIAGE_RECORD",
    "SHARES_NOT_100",
    "NOT_IN_BACKBONE",
)
# flags raised by a row the generator appended (its facts are not in the clean truth)
APPENDED_ROW_FLAGS = (
    "MULTIPLE_HUKOU",
    "UNDERAGE_MARRIAGE",
    "BIGAMY",
    "SAME_SEX_MARRIAGE_RECORD",
    "BENEFIT_AFTER_DEATH",
)
# ACTIVITY_AFTER_DEATH is an appended row on tax and property, and an edited row (contribution status set
# to paying) on social insurance: either way the delivered facts differ from the clean truth
APPENDED_ROW_ACTIVITY_FEEDS = ("tax", "property", "social_insurance")

NAME_KEY = "regexp_replace(translate(trim({x}), '.•・‧．', '·····'), '[\\s\\x{{3000}}]', '', 'g')"

# attribute -> SQL predicate "base value equals truth" over b (population_base) and t (truth persons)
ATTRIBUTES: dict[str, str] = {
    "name": f"{NAME_KEY.format(x='b.name')} = {NAME_KEY.format(x='t.name')}",
    "sex": "b.sex is not distinct from t.sex",
    "birth_date": "b.birth_date is not distinct from t.birth_date",
    "in_hukou": "b.in_hukou is not distinct from t.in_hukou",
    "hukou_district_code": "b.hukou_district_code is not distinct from t.hukou_district_code",
    "has_residence_registration": "b.has_residence_registration is not distinct from t.has_residence_registration",
    "residence_district_code": "b.residence_district_code is not distinct from t.residence_district_code",
    "is_deceased": "b.is_deceased is not distinct from t.is_deceased",
    "death_date": "b.death_date is not distinct from t.death_date",
    "moved_out": "b.moved_out is not distinct from t.moved_out",
    "marital_status": "b.marital_status is not distinct from t.marital_status",
    "spouse_citizen_id": "b.spouse_citizen_id is not distinct from t.spouse_citizen_id",
    "highest_education_code": "b.highest_education_code is not distinct from t.highest_education_code",
    "in_school": "b.in_school is not distinct from t.in_school",
    "pension_insured": "b.pension_insured is not distinct from t.pension_insured",
    "medical_insured": "b.medical_insured is not distinct from t.medical_insured",
    "insured_months": "b.insured_months is not distinct from t.insured_months",
    "receiving_pension": "b.receiving_pension is not distinct from t.receiving_pension",
    "income_last_12m": "abs(coalesce(b.income_last_12m, 0)::double - coalesce(t.income_last_12m, 0)) <= 0.01",
    "property_units": "coalesce(b.property_units, 0) = coalesce(t.property_units, 0)",
}


def _ratio(num: int | float, den: int | float) -> float | None:
    return None if not den else round(num / den, 6)


def _prepare(con: duckdb.DuckDBPyConnection, landing: Path, population_file: Path) -> dt.date:
    truth = landing / "_truth"
    con.execute("attach $path as pop (read_only)", {"path": str(population_file)})
    con.execute("create temp table truth_persons as select * from read_parquet($path)",
                {"path": str(truth / "persons.parquet")})
    con.execute("create temp table defects as select * from read_parquet($path)",
                {"path": str(truth / "defects.parquet")})
    reference_date = con.execute("select max(reference_date) from pop.population_base").fetchone()[0]
    if reference_date is None:
        reference_date = con.execute(
            "select max(delivery_date) from pop.deliveries where status = 'loaded'"
        ).fetchone()[0]
    # deliveries whose rows are in force on the reference date: the latest loaded snapshot, every event
    # delivery (feed kind from the truth: tax and marriage are events)
    con.execute(
        """
        create temp table in_force as
        select feed, delivery_date
        from pop.deliveries
        where status = 'loaded' and delivery_date <= $ref
        qualify feed in ('tax', 'marriage')
            or delivery_date = max(delivery_date) over (partition by feed)
        """,
        {"ref": reference_date},
    )
    con.execute(
        """
        create temp table defects_in_force as
        select d.* from defects as d
        inner join in_force as f on f.feed = d.feed and f.delivery_date = d.delivery_date
        """
    )
    con.execute(
        """
        create temp table excluded as
        select
            citizen_id,
            bool_or(list_contains($reasons, expected)) as row_lost,
            bool_or(list_contains($appended, expected)
                or (expected = 'ACTIVITY_AFTER_DEATH' and list_contains($activity_feeds, feed))) as row_appended
        from defects_in_force
        where citizen_id is not null
            and (list_contains($reasons, expected) or list_contains($appended, expected)
                or (expected = 'ACTIVITY_AFTER_DEATH' and list_contains($activity_feeds, feed)))
        group by citizen_id
        """,
        {"reasons": list(QUARANTINE_REASONS), "appended": list(APPENDED_ROW_FLAGS),
         "activity_feeds": list(APPENDED_ROW_ACTIVITY_FEEDS)},
    )
    # marital status and spouse also depend on the partner's rows (a marriage row names one party in the
    # defects; a spouse's lost hukou row hides their death): persons linked as spouses (truth, base or
    # person_relations) to an excluded person are excluded from those two attributes only
    con.execute(
        """
        create temp table partner_excluded as
        with links as (
            select citizen_id as a, spouse_citizen_id as b from truth_persons where spouse_citizen_id is not null
            union select citizen_id, spouse_citizen_id from pop.population_base where spouse_citizen_id is not null
            union select citizen_id, related_citizen_id from pop.person_relations where relation = 'spouse'
        )
        select distinct l.a as citizen_id
        from (select a, b from links union select b, a from links) as l
        semi join excluded as x on x.citizen_id = l.b
        """
    )
    return reference_date


PARTNER_ATTRIBUTES = ("marital_status", "spouse_citizen_id")


def _attributes(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    def counted(name: str, pred: str) -> str:
        scope = " and not t.partner_excluded" if name in PARTNER_ATTRIBUTES else ""
        return (
            f'count(*) filter (where b.citizen_id is not null{scope} and ({pred})) as "{name}", '
            f'count(*) filter (where true{scope}) as "{name}__n"'
        )

    cols = ",\n".join(counted(name, pred) for name, pred in ATTRIBUTES.items())
    row = con.execute(
        f"""
        with appearing as (
            select t.* from truth_persons as t where len(coalesce(t.source_feeds, [])) > 0
        ),
        evaluated as (
            select a.*, a.citizen_id in (select citizen_id from partner_excluded) as partner_excluded
            from appearing as a anti join excluded as x on x.citizen_id = a.citizen_id
        )
        select
            (select count(*) from appearing) as appearing,
            (select count(*) from appearing as a semi join excluded as x on x.citizen_id = a.citizen_id
                and x.row_lost) as excluded_row_lost,
            (select count(*) from appearing as a semi join excluded as x on x.citizen_id = a.citizen_id
                and not x.row_lost) as excluded_row_appended_only,
            (select count(*) from appearing as a semi join pop.population_base as b
                on b.citizen_id = a.citizen_id) as appearing_in_base,
            count(*) as evaluated,
            count(*) filter (where t.partner_excluded) as partner_excluded,
            count(b.citizen_id) as evaluated_in_base,
            {cols}
        from evaluated as t
        left join pop.population_base as b on b.citizen_id = t.citizen_id
        """
    ).fetchone()
    names = [d[0] for d in con.description]
    values = dict(zip(names, row, strict=True))
    evaluated = values["evaluated"]
    attributes = [
        {
            "attribute": name,
            "agree": values[name],
            "evaluated": values[f"{name}__n"],
            "share": _ratio(values[name], values[f"{name}__n"]),
        }
        for name in ATTRIBUTES
    ]
    base_only = con.execute(
        "select count(*) from pop.population_base as b anti join truth_persons as t on t.citizen_id = b.citizen_id"
    ).fetchone()[0]
    return {
        "persons_in_truth": con.execute("select count(*) from truth_persons").fetchone()[0],
        "appearing_in_feeds": values["appearing"],
        "excluded_row_lost": values["excluded_row_lost"],
        "excluded_row_appended_only": values["excluded_row_appended_only"],
        "evaluated": evaluated,
        "partner_excluded": values["partner_excluded"],
        "coverage_all_appearing": _ratio(values["appearing_in_base"], values["appearing"]),
        "coverage": _ratio(values["evaluated_in_base"], evaluated),
        "base_persons_not_in_truth": base_only,
        "attributes": attributes,
    }


def _quarantine(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    con.execute(
        """
        create temp table q as
        select feed, delivery_date, source_file, source_row, reason_code
        from pop.quarantine
        """
    )
    reasons = [
        dict(zip(("reason", "expected", "matched", "quarantined", "recall", "precision"), r, strict=True))
        for r in con.execute(
            """
            with codes as (
                select unnest($codes::varchar[]) as reason
            ),
            expected as (
                select expected as reason, count(*) as n from defects where expected in (select reason from codes)
                group by all
            ),
            quarantined as (select reason_code as reason, count(*) as n from q group by all),
            matched as (
                select d.expected as reason, count(*) as n
                from defects as d
                inner join q on q.feed = d.feed and q.delivery_date = d.delivery_date
                    and q.source_file = d.file and q.source_row = d.row and q.reason_code = d.expected
                group by all
            )
            select c.reason, coalesce(e.n, 0), coalesce(m.n, 0), coalesce(qq.n, 0),
                if(coalesce(e.n, 0) = 0, null, round(coalesce(m.n, 0) / e.n, 6)),
                if(coalesce(qq.n, 0) = 0, null, round(coalesce(m.n, 0) / qq.n, 6))
            from codes as c
            left join expected as e on e.reason = c.reason
            left join quarantined as qq on qq.reason = c.reason
            left join matched as m on m.reason = c.reason
            order by c.reason
            """,
            {"codes": list(QUARANTINE_REASONS)},
        ).fetchall()
    ]
    total_q = con.execute("select count(*) from q").fetchone()[0]
    q_no_defect = con.execute(
        """
        select count(*) from q anti join defects as d
        on q.feed = d.feed and q.delivery_date = d.delivery_date and q.source_file = d.file and q.source_row = d.row
        """
    ).fetchone()[0]
    repaired = con.execute(
        """
        select count(*), count(*) filter (where q.source_row is null)
        from defects as d
        left join (select distinct feed, delivery_date, source_file, source_row from q) as q
            on q.feed = d.feed and q.delivery_date = d.delivery_date and q.source_file = d.file
            and q.source_row = d.row
        where d.expected = 'REPAIRED'
        """
    ).fetchone()
    repaired_by_kind = [
        {"kind": k, "expected": n, "loaded": ok, "recall": _ratio(ok, n)}
        for k, n, ok in con.execute(
            """
            select d.kind, count(*), count(*) filter (where q.source_row is null)
            from defects as d
            left join (select distinct feed, delivery_date, source_file, source_row from q) as q
                on q.feed = d.feed and q.delivery_date = d.delivery_date and q.source_file = d.file
                and q.source_row = d.row
            where d.expected = 'REPAIRED'
            group by all order by 1
            """
        ).fetchall()
    ]
    # exact duplicates: per delivery, the pipeline's rows_duplicate against the DUPLICATE defects
    dup = con.execute(
        """
        with t as (
            select feed, delivery_date, count(*) as n from defects where expected = 'DUPLICATE' group by all
        ),
        p as (
            select feed, delivery_date, coalesce(rows_duplicate, 0) as n
            from pop.deliveries where status = 'loaded'
        )
        select
            coalesce(sum(t.n), 0),
            coalesce(sum(p.n), 0),
            coalesce(sum(least(coalesce(t.n, 0), coalesce(p.n, 0))), 0)
        from t full join p on p.feed = t.feed and p.delivery_date = t.delivery_date
        """
    ).fetchone()
    dup_quarantined = con.execute(
        """
        select count(*) from defects as d semi join q
            on q.feed = d.feed and q.delivery_date = d.delivery_date and q.source_file = d.file
            and q.source_row = d.row
        where d.expected = 'DUPLICATE'
        """
    ).fetchone()[0]
    return {
        "reasons": reasons,
        "quarantined_rows": total_q,
        "quarantined_rows_without_defect": q_no_defect,
        "repaired": {"expected": repaired[0], "loaded": repaired[1], "recall": _ratio(repaired[1], repaired[0])},
        "repaired_by_kind": repaired_by_kind,
        "duplicate": {
            "expected": int(dup[0]),
            "counted": int(dup[1]),
            "matched": int(dup[2]),
            "recall": _ratio(dup[2], dup[0]),
            "precision": _ratio(dup[2], dup[1]),
            "quarantined_instead": dup_quarantined,
        },
    }


def _flags(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Flags in force: a pipeline flag matches a defect with the same code on the same person and feed, or on
    the same delivered row (a record naming two people, e.g. a same-sex marriage record, flags both).
    NOT_IN_BACKBONE is judged on the reference date (truth source_feeds holds neither backbone feed) and
    per person. Defects and flags of persons who lost a row to quarantine are not judged (the flag may
    legitimately come or go with the lost row); their number is reported."""
    rows = con.execute(
        """
        with codes as (select unnest($codes::varchar[]) as flag_code),
        lost as (select citizen_id from excluded where row_lost),
        t as (
            select distinct d.citizen_id, d.expected as flag_code,
                if(d.expected = 'NOT_IN_BACKBONE', null, d.feed) as feed,
                d.feed as row_feed, d.delivery_date, d.file, d.row,
                d.citizen_id in (select citizen_id from lost) as not_judged
            from defects_in_force as d
            where d.expected in (select flag_code from codes) and d.citizen_id is not null
                and (d.expected <> 'NOT_IN_BACKBONE' or d.citizen_id in (
                    select citizen_id from truth_persons
                    where not list_contains(source_feeds, 'hukou')
                        and not list_contains(source_feeds, 'residence_permit')
                ))
        ),
        p as (
            select distinct f.citizen_id, f.flag_code,
                if(f.flag_code = 'NOT_IN_BACKBONE', null, f.feed) as feed,
                f.feed as row_feed,
                try_strptime(split_part(f.delivery_id, '/', 2), '%Y%m%d')::date as delivery_date,
                f.source_file, f.source_row,
                f.citizen_id in (select citizen_id from lost) as not_judged
            from pop.person_flags as f
        ),
        t_row_hit as (
            select t.citizen_id, t.flag_code, t.feed, t.not_judged, exists (
                select 1 from p where p.flag_code = t.flag_code and (
                    (p.citizen_id = t.citizen_id and p.feed is not distinct from t.feed)
                    or (p.row_feed = t.row_feed and p.delivery_date = t.delivery_date
                        and p.source_file = t.file and p.source_row = t.row))
            ) as hit
            from t
        ),
        t_hit as (
            select citizen_id, flag_code, feed, bool_or(not_judged) as not_judged, bool_or(hit) as hit
            from t_row_hit group by all
        ),
        p_row_hit as (
            select p.citizen_id, p.flag_code, p.feed, p.not_judged, exists (
                select 1 from t where t.flag_code = p.flag_code and (
                    (p.citizen_id = t.citizen_id and p.feed is not distinct from t.feed)
                    or (p.row_feed = t.row_feed and p.delivery_date = t.delivery_date
                        and p.source_file = t.file and p.source_row = t.row))
            ) as hit
            from p
        ),
        p_hit as (
            select citizen_id, flag_code, feed, bool_or(not_judged) as not_judged, bool_or(hit) as hit
            from p_row_hit group by all
        )
        select c.flag_code,
            (select count(*) from t_hit where t_hit.flag_code = c.flag_code and not not_judged),
            (select count(*) from t_hit where t_hit.flag_code = c.flag_code and not not_judged and hit),
            (select count(*) from p_hit where p_hit.flag_code = c.flag_code and not (not_judged and not hit)),
            (select count(*) from p_hit where p_hit.flag_code = c.flag_code and hit),
            (select count(*) from t_hit where t_hit.flag_code = c.flag_code and not_judged)
                + (select count(*) from p_hit where p_hit.flag_code = c.flag_code and not_judged and not hit)
        from codes as c
        order by c.flag_code
        """,
        {"codes": list(FLAG_CODES)},
    ).fetchall()
    return [
        {
            "flag": code,
            "expected": exp,
            "found": found,
            "flagged": got,
            "correct": correct,
            "not_judged": nj,
            "recall": _ratio(found, exp),
            "precision": _ratio(correct, got),
        }
        for code, exp, found, got, correct, nj in rows
    ]


def _actual_population(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    row = con.execute(
        """
        select
            count(*) filter (where t.lives_in_city) as true_residents,
            count(*) filter (where t.lives_in_city and not coalesce(b.is_actual_resident, false))
                as residents_excluded,
            count(*) filter (where t.lives_in_city and b.citizen_id is null) as residents_not_in_base,
            count(*) filter (where t.lives_in_city and len(coalesce(t.source_feeds, [])) = 0)
                as residents_in_no_feed,
            count(*) filter (where b.is_actual_resident) as counted,
            count(*) filter (where b.is_actual_resident and not coalesce(t.lives_in_city, false))
                as counted_not_resident,
            count(*) filter (where b.is_actual_resident and t.citizen_id is null) as counted_not_in_truth
        from truth_persons as t
        full join pop.population_base as b on b.citizen_id = t.citizen_id
        """
    ).fetchone()
    names = [d[0] for d in con.description]
    v = dict(zip(names, row, strict=True))
    v["share_residents_excluded"] = _ratio(v["residents_excluded"], v["true_residents"])
    v["share_counted_not_resident"] = _ratio(v["counted_not_resident"], v["counted"])
    # the breakdown by the signs the base recorded helps tune assets/actual_population.yml
    v["breakdown"] = [
        dict(zip(("in_hukou", "has_activity", "lives_in_city", "is_actual_resident", "persons"), r, strict=True))
        for r in con.execute(
            """
            select b.in_hukou, b.has_wenzhou_activity, t.lives_in_city, b.is_actual_resident, count(*)
            from pop.population_base as b left join truth_persons as t on t.citizen_id = b.citizen_id
            where not b.is_deceased and not b.moved_out
            group by all order by all
            """
        ).fetchall()
    ]
    return v


def evaluate(landing: Path, population_file: Path) -> dict[str, Any]:
    """Every measure, as a JSON-ready dict."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False})  # nothing is downloaded
    try:
        reference_date = _prepare(con, Path(landing), Path(population_file))
        result: dict[str, Any] = {
            "reference_date": reference_date.isoformat(),
            "landing": str(landing),
            "population_file": str(population_file),
        }
        result["base"] = _attributes(con)
        result["quarantine"] = _quarantine(con)
        result["flags"] = _flags(con)
        result["actual_population"] = _actual_population(con)
        return result
    finally:
        con.close()


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.2f}%"


def to_markdown(r: dict[str, Any], meta: dict[str, Any] | None = None) -> str:
    """The results as a markdown report."""
    b, q, ap = r["base"], r["quarantine"], r["actual_population"]
    lines = ["# Accuracy of the population base against the generator's ground truth", ""]
    for k, v in (meta or {}).items():
        lines.append(f"- {k}: {v}")
    lines += [
        f"- reference date: {r['reference_date']}",
        f"- persons in truth: {b['persons_in_truth']:,}; appearing in some feed: {b['appearing_in_feeds']:,}; "
        f"excluded (a row of theirs lost to quarantine): {b['excluded_row_lost']:,}; excluded (only an appended "
        f"defect row): {b['excluded_row_appended_only']:,}; evaluated: {b['evaluated']:,} (marital status and "
        f"spouse: {b['evaluated'] - b['partner_excluded']:,}, without partners of excluded persons)",
        f"- coverage (evaluated persons present in the base): {_pct(b['coverage'])}; all appearing persons: "
        f"{_pct(b['coverage_all_appearing'])}; base persons unknown to the truth: {b['base_persons_not_in_truth']:,}",
        "",
        "## Attributes of population_base (share equal to the truth)",
        "",
        "| attribute | agree | evaluated | share |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {a['attribute']} | {a['agree']:,} | {a['evaluated']:,} | {_pct(a['share'])} |" for a in b["attributes"]
    ]
    lines += [
        "",
        "## Quarantine reasons (rows matched on feed, delivery date, file, row)",
        "",
        "| reason | expected | quarantined | matched | recall | precision |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {x['reason']} | {x['expected']:,} | {x['quarantined']:,} | {x['matched']:,} | {_pct(x['recall'])} | "
        f"{_pct(x['precision'])} |"
        for x in q["reasons"]
    ]
    d = q["duplicate"]
    lines += [
        f"| REPAIRED (loaded, not quarantined) | {q['repaired']['expected']:,} | – | {q['repaired']['loaded']:,} | "
        f"{_pct(q['repaired']['recall'])} | – |",
        f"| DUPLICATE (rows_duplicate per delivery) | {d['expected']:,} | {d['counted']:,} | {d['matched']:,} | "
        f"{_pct(d['recall'])} | {_pct(d['precision'])} |",
        "",
        f"Quarantined rows: {q['quarantined_rows']:,}, of which not named by any defect: "
        f"{q['quarantined_rows_without_defect']:,}.",
        "",
        "## Flags (person_flags matched on citizen_id, flag_code, feed, or on the delivered row; defects in "
        "deliveries in force; persons who lost a row to quarantine not judged)",
        "",
        "| flag | expected | found | flagged | correct | not judged | recall | precision |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {f['flag']} | {f['expected']:,} | {f['found']:,} | {f['flagged']:,} | {f['correct']:,} | "
        f"{f['not_judged']:,} | {_pct(f['recall'])} | {_pct(f['precision'])} |"
        for f in r["flags"]
    ]
    lines += [
        "",
        "## Actual population (实有人口) against truth `lives_in_city`",
        "",
        "| measure | persons | share |",
        "|---|---:|---:|",
        f"| true residents | {ap['true_residents']:,} | |",
        f"| true residents left out (not in base, or is_actual_resident false) | {ap['residents_excluded']:,} | "
        f"{_pct(ap['share_residents_excluded'])} |",
        f"| … of which in no feed at all | {ap['residents_in_no_feed']:,} | |",
        f"| counted (is_actual_resident) | {ap['counted']:,} | |",
        f"| counted but not true residents | {ap['counted_not_resident']:,} | "
        f"{_pct(ap['share_counted_not_resident'])} |",
        "",
        "ONS 2021 admin-based population estimates, for scale: 7.3% of residents missed, 8.6% of those counted "
        "not resident.",
        "",
    ]
    return "\n".join(lines)


def machine() -> str:
    """A one-line description of the machine the numbers come from."""
    mem = ""
    with contextlib.suppress(ValueError, OSError):
        mem = f", {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM"
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores{mem}, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--landing", type=Path, required=True, help="landing directory with _truth/")
    p.add_argument("--population-file", type=Path, required=True, help="the published full population.duckdb")
    p.add_argument("--out", type=Path, help="write <out>.json and <out>.md (e.g. benchmarks/results/accuracy)")
    p.add_argument(
        "--meta",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra facts for the report header (persons, seed, run time …)",
    )
    p.add_argument("--notes", type=Path, help="a markdown file appended to the report (findings, caveats)")
    args = p.parse_args(argv)
    meta = dict(m.split("=", 1) for m in args.meta)
    meta.setdefault("machine", machine())
    meta.setdefault("evaluated_at", dt.datetime.now().isoformat(timespec="seconds"))
    result = evaluate(args.landing, args.population_file)
    result["meta"] = meta
    md = to_markdown(result, meta)
    if args.notes:
        md += "\n" + args.notes.read_text(encoding="utf-8")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")
        args.out.with_suffix(".md").write_text(md, encoding="utf-8")
    sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
