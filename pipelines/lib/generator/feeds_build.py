"""Clean feed rows of one chunk at one delivery date, as string columns named by the registry's `name`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.lib.generator import ids
from pipelines.lib.generator.population import NAT, People, age_at, years

COUNTY_NAME = {k: v[0] for k, v in ids.WENZHOU_COUNTIES.items()}
_CN_CODES = np.array(sorted(COUNTY_NAME))
_CN_NAMES = pa.array([COUNTY_NAME[c] for c in _CN_CODES])
SEX_LABEL = pa.array([
    "", "男", "女",
])
ROADS = pa.array("人民路 解放路 车站大道 学院路 府前街 江滨路 锦绣路 南塘街 温州大道 瓯江路 新城大道 滨海大道 "
                 "飞霞路 划龙桥路 黎明路 牛山路 万松路 environment".replace(" environment", "").split())
TOWNS = pa.array([
    "城关镇", "塘下镇", "柳市镇", "虹桥镇", "鳌江镇", "龙港镇", "北白象镇", "瓯北街道", "五马街道",
    "南浦街道", "莘塍街道", "上塘镇", "灵溪镇", "大峃镇", "罗阳镇", "状元街道", "娄桥街道", "元觉街道",
])
DWELLINGS = pa.array([
    "自有住房", "租赁住房", "单位宿舍", "其他",
])
NATURE = pa.array([
    "", "农业", "非农业",
])
STAGES = ["学前", "小学", "初中", "高中", "中职", "高校"]
STAGE_START = np.array([3, 6, 12, 15, 15, 18])
STAGE_LETTER = pa.array([
    "K", "P", "J", "S", "V", "U",
])
SCHOOL_KIND = pa.array([
    "幼儿园", "小学", "中学", "高级中学", "职业中学", "学院",
])
UNIVERSITIES = pa.array([
    "温州大学", "温州医科大学", "温州职业技术学院", "温州商学院", "温州理工学院", "浙江工贸职业技术学院",
])
CODE_STAGE = {11: 5, 14: 5, 21: 5, 31: 5, 41: 4, 61: 3, 71: 2, 81: 1}
CODE_GRAD_AGE = {11: 29, 14: 25, 21: 22, 31: 21, 41: 18, 61: 18, 71: 15, 81: 12}
USAGES = pa.array([
    "住宅", "商业", "办公", "工业", "其他",
])
CO_MODES = pa.array([
    "单独所有", "共同共有", "按份共有",
])
INCOME_ITEMS = ("工资薪金所得", "劳务报酬所得")


@dataclass
class FeedChunk:
    """Rows of one feed for one chunk: string columns by canonical name, the person each row is about."""

    cols: dict[str, pa.Array]
    pidx: np.ndarray  # local person index, -1 for rows about nobody in the truth (organisations, foreigners)
    aux: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.pidx)


def s(values: np.ndarray) -> pa.Array:
    """Integers as strings."""
    return pa.array(np.asarray(values)).cast(pa.string())


def pad(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(s(values), width, "0")


def fmt(dates: np.ndarray, pattern: str) -> pa.Array:
    """datetime64[D] as strings in `pattern`; NaT becomes null (written empty)."""
    return pc.strftime(pa.array(np.asarray(dates, dtype="datetime64[D]"), pa.date32(), from_pandas=True),
                       format=pattern)


def county_names(codes: np.ndarray) -> pa.Array:
    return _CN_NAMES.take(pa.array(np.clip(np.searchsorted(_CN_CODES, codes), 0, len(_CN_CODES) - 1)))


def money(x: np.ndarray) -> pa.Array:
    """Amounts with exactly two decimals, vectorised."""
    cents = np.round(np.asarray(x) * 100).astype(np.int64)
    return pc.binary_join_element_wise(s(cents // 100), pad(cents % 100, 2), ".")


def month_start(year: np.ndarray, month: int) -> np.ndarray:
    return ((np.asarray(year) - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (month - 1)).astype(
        "datetime64[D]")


def address(counties: np.ndarray, key: np.ndarray, prefix: str) -> pa.Array:
    n = len(key)
    road = ROADS.take(pa.array(key % len(ROADS)))
    town = TOWNS.take(pa.array((key // 7) % len(TOWNS)))
    return pc.binary_join_element_wise(pa.array([prefix] * n, pa.string()), county_names(counties), town, road,
                                       s(key % 397 + 1), "号", "")


def _alive(p: People, d: np.datetime64) -> np.ndarray:
    return (p.birth <= d) & (np.isnat(p.death) | (p.death > d)) & (np.isnat(p.moveout) | (p.moveout > d))


def hukou(p: People, d: np.datetime64, fmt_date: str) -> FeedChunk:
    """Household register snapshot: every Wenzhou-hukou person born by `d`, incl. deceased and moved out."""
    idx = np.flatnonzero(~p.floating & (p.birth <= d))
    dead = ~np.isnat(p.death[idx]) & (p.death[idx] <= d)
    moved = ~dead & ~np.isnat(p.moveout[idx]) & (p.moveout[idx] <= d)
    status = np.where(dead, 1, np.where(moved, 2, 0))
    change = np.where(dead, p.death[idx], np.where(moved, p.moveout[idx], NAT))
    role = p.role[idx]
    sex = p.sex[idx]
    rel = np.select([role == 0, role == 1, (role == 2) & (sex == 1), role == 2], [0, 1, 2, 3], 4)
    t = pa.array(idx)
    cols = {
        "citizen_id": p.cid.take(t), "name": p.name.take(t), "sex": s(sex),
        "ethnicity_code": pad(p.ethnicity[idx], 2), "birth_date": fmt(p.birth[idx], fmt_date),
        "household_no": p.household_no.take(t),
        "relation_code": pa.array(["02", "10", "20", "30", "50"]).take(pa.array(rel)),
        "hukou_district_code": s(p.hukou_county[idx]),
        "hukou_address": address(p.hukou_county[idx], p.start + p.hh[idx], "浙江省温州市"),
        "former_hukou_nature": NATURE.take(pa.array(p.former_nature[idx])),
        "person_status": s(status), "status_change_date": fmt(change, fmt_date),
    }
    return FeedChunk(cols, idx)


def residence_permit(p: People, d: np.datetime64, fmt_date: str) -> FeedChunk:
    """Floating-population registrations current on `d`."""
    idx = np.flatnonzero(p.floating & ~np.isnat(p.resreg_date) & (p.resreg_date <= d) & _alive(p, d))
    t = pa.array(idx)
    reg = p.resreg_date[idx]
    issue = reg + (p.u[idx, 7] * 60 + 15).astype(np.int64).astype("timedelta64[D]")
    has_permit = p.permit[idx] & (issue <= d)
    issue = np.where(has_permit, issue, NAT)
    until = np.where(has_permit, issue + np.timedelta64(3 * 365, "D"), NAT)
    live = p.live_county[idx]
    permit_no = pc.binary_join_element_wise(s(live), s(years(np.where(has_permit, issue, d))),
                                            pad((p.start + idx) % 10**8, 8), "")
    permit_no = pc.if_else(pa.array(has_permit), permit_no, pa.nulls(len(idx), pa.string()))
    emp = (p.employed_from[idx] <= d) & ~p.informal[idx]
    employer = pc.if_else(pa.array(emp), p.emp_name.take(pa.array(p.employer[idx])), "")
    cols = {
        "citizen_id": p.cid.take(t), "name": p.name.take(t), "sex": SEX_LABEL.take(pa.array(p.sex[idx])),
        "birth_date": fmt(p.birth[idx], fmt_date), "hukou_place_code": s(p.id_addr[idx]),
        "residence_district_code": s(live), "residence_address": address(live, p.start + idx, "温州市"),
        "registration_date": fmt(reg, fmt_date), "permit_no": permit_no, "permit_issue_date": fmt(issue, fmt_date),
        "permit_valid_until": fmt(until, fmt_date), "dwelling_type": DWELLINGS.take(pa.array(p.dwelling[idx])),
        "employer_name": employer,
    }
    return FeedChunk(cols, idx)


def education(p: People, d: np.datetime64, fmt_date: str) -> FeedChunk:
    """Student records (current stage, previous stage graduated) and adults' attainment records."""
    here = _alive(p, d) & (p.live_county > 0)
    y, m = int(years(d)), int(str(d)[5:7])
    sy = y if m >= 9 else y - 1
    a = age_at(p.birth, np.datetime64(f"{sy}-08-31"))
    u0, u1, u2 = p.u[:, 0], p.u[:, 1], p.u[:, 2]
    stage = np.full(p.n, -1)
    stage[(a >= 3) & (a <= 5) & (u0 < 0.9)] = 0
    stage[(a >= 6) & (a <= 11) & (u0 < 0.995)] = 1
    stage[(a >= 12) & (a <= 14) & (u0 < 0.99)] = 2
    stage[(a >= 15) & (a <= 17) & (u0 < 0.95)] = np.where(u1[(a >= 15) & (a <= 17) & (u0 < 0.95)] < 0.63, 3, 4)
    stage[(a >= 18) & (a <= 21) & p.college] = 5
    stage[~here] = -1
    st_idx = np.flatnonzero(stage >= 0)
    st = stage[st_idx]
    enrol = month_start(sy - (a[st_idx] - STAGE_START[st]), 9)
    status = np.where(u2[st_idx] < 0.01, 3, np.where((u2[st_idx] < 0.02) & (st >= 3), 4, 0))
    # previous stage, graduated
    pv_idx = st_idx[(st >= 2)]
    pst = np.where(stage[pv_idx] == 5, 3, np.where(stage[pv_idx] >= 3, 2, 1))
    pv_grad = month_start(sy - (a[pv_idx] - STAGE_START[stage[pv_idx]]), 6) + np.timedelta64(29, "D")
    pv_enrol = month_start(years(pv_grad) - np.array([3, 6, 3, 3, 3, 4])[pst], 9)
    pv_code = np.array([0, 81, 71, 61, 41, 21])[pst]
    # adults' highest attainment
    ad_idx = np.flatnonzero(here & (p.attainment > 0) & (stage < 0))
    code = p.attainment[ad_idx]
    ad_stage = np.vectorize(CODE_STAGE.get, otypes=[np.int64])(code) if len(code) else np.zeros(0, np.int64)
    gy = years(p.birth[ad_idx]) + (np.vectorize(CODE_GRAD_AGE.get, otypes=[np.int64])(code) if len(code) else 0)
    gy = np.minimum(gy, y - 1)
    ad_grad = month_start(gy, 6) + np.timedelta64(29, "D")
    ad_enrol = month_start(gy - np.array([3, 6, 3, 3, 3, 4])[ad_stage], 9)
    pidx = np.concatenate([st_idx, pv_idx, ad_idx])
    stg = np.concatenate([st, pst, ad_stage])
    stat = np.concatenate([status, np.full(len(pv_idx) + len(ad_idx), 1)])
    enr = np.concatenate([enrol, pv_enrol, ad_enrol])
    grad = np.concatenate([np.full(len(st_idx), NAT), pv_grad, ad_grad])
    codes = np.concatenate([np.zeros(len(st_idx), np.int64), pv_code, code])
    t = pa.array(pidx)
    county = p.live_county[pidx]
    kth = (p.start + pidx) % 23 + 1
    school = pc.binary_join_element_wise("温州市", county_names(county),
                                         "第", s(kth), "中心",
                                         SCHOOL_KIND.take(pa.array(stg)), "")
    school = pc.if_else(pa.array(stg == 5), UNIVERSITIES.take(pa.array(kth % len(UNIVERSITIES))), school)
    cols = {
        "student_no": pc.binary_join_element_wise(STAGE_LETTER.take(pa.array(stg)), pad(p.start + pidx, 10), ""),
        "citizen_id": p.cid.take(t), "name": p.name.take(t), "sex": SEX_LABEL.take(pa.array(p.sex[pidx])),
        "school_name": school, "school_district_code": s(county),
        "school_stage": pa.array(STAGES).take(pa.array(stg)), "enrolment_date": fmt(enr, fmt_date),
        "student_status": pa.array(["在读", "毕业", "转出", "休学", "辍学"]).take(pa.array(stat)),
        "graduation_date": fmt(grad, fmt_date),
        "attainment_code": pc.if_else(pa.array(codes > 0), s(codes), pa.nulls(len(pidx), pa.string())),
        "is_migrant_child": pc.if_else(pa.array(p.floating[pidx]), "是", "否"),
    }
    return FeedChunk(cols, pidx, {"status": stat, "code": codes})


def social_insurance(p: People, d: np.datetime64, fmt_date: str) -> FeedChunk:
    """Insured persons per scheme on `d` (terminated schemes of the deceased and moved out included)."""
    end = np.where(~np.isnat(p.death), p.death, p.moveout)
    ended = ~np.isnat(end) & (end <= d)
    eff = np.where(ended, end - np.timedelta64(1, "D"), d)
    exists = p.birth <= d
    age = ((eff - p.birth).astype(np.int64) / 365.2425).astype(np.int64)
    retire_age = np.where(p.sex == 1, 60, 55)
    retired = age >= retire_age
    emp = ~np.isnat(p.employed_from) & (p.employed_from <= eff) & ~p.informal & ~retired & (p.live_county > 0)
    ret_w = p.retired_worker & retired
    hukou = ~p.floating
    here = p.live_county > 0
    u = p.u
    away_ok = here | (p.away & (u[:, 6] < 0.12))
    schemes = {
        "110": exists & emp & ~p.civil | exists & ret_w,
        "120": exists & emp & p.civil,
        "210": exists & emp & (u[:, 3] < 0.3),
        "410": exists & emp & (u[:, 4] < 0.05),
        "310": exists & (emp | ret_w),
        "170": exists & hukou & ~emp & ~ret_w & (age >= 16) & away_ok
        & (u[:, 6] < np.where(retired, 0.9, 0.4)) & ~p.college,
        "390": exists & ~emp & ~ret_w & (u[:, 5] < np.where(here & (hukou | ~np.isnat(p.resreg_date)), 0.96,
                                                               np.where(p.away, 0.03, 0.4))),
    }
    parts = [(np.flatnonzero(m), k) for k, m in schemes.items()]
    idx = np.concatenate([i for i, _ in parts])
    kind = np.concatenate([np.full(len(i), k) for i, k in parts])
    order = np.argsort(idx, kind="stable")
    idx, kind = idx[order], kind[order]
    worker = np.isin(kind, ["110", "120", "210", "410", "310"]) & emp[idx]
    retiree_row = ~worker & np.isin(kind, ["110", "310"])
    retire_date = p.birth[idx] + (retire_age[idx] * 365.2425).astype(np.int64).astype("timedelta64[D]")
    start = np.select(
        [worker, retiree_row, kind == "170"],
        [p.employed_from[idx], p.birth[idx] + np.timedelta64(8400, "D"),
         np.maximum(np.datetime64("2011-07-01"), p.birth[idx] + np.timedelta64(5844, "D"))],
        np.maximum(np.datetime64("2008-01-01"), p.birth[idx]))
    pension_age = (kind == "170") & (age[idx] >= 60)
    last = np.where(ended[idx], end[idx], np.where(retiree_row & (kind == "110"), retire_date,
                                                     np.where(pension_age, p.birth[idx] + np.timedelta64(21915, "D"),
                                                              d)))
    last = np.minimum(last, d)
    start = np.minimum(start, last)
    months = ((last.astype("datetime64[M]") - start.astype("datetime64[M]")).astype(np.int64) + 1)
    months = np.maximum(1, (months * (0.85 + 0.15 * u[idx, 7])).astype(np.int64))
    status = np.where(ended[idx], "3", "1")
    benefit = np.where(~ended[idx] & (retiree_row & (kind == "110") | pension_age), "1", "0")
    has_emp = worker
    emp_i = p.employer[idx]
    t = pa.array(idx)
    emp_no = pc.binary_join_element_wise(s(p.emp_county[emp_i]), pad(p.chunk * 100000 + emp_i, 8), "")
    where = np.where(has_emp, p.emp_county[emp_i], np.where(p.live_county[idx] > 0, p.live_county[idx],
                                                               np.where(hukou[idx], p.hukou_county[idx], 330302)))
    cols = {
        "person_no": pad(3300000000 + p.start + idx, 10), "citizen_id": p.cid.take(t), "name": p.name.take(t),
        "sex": s(p.sex[idx]), "insurance_type": pa.array(kind), "insured_status": pa.array(status),
        "insured_since": fmt(start, fmt_date), "last_paid_month": fmt(last, "%Y%m"), "months_paid": s(months),
        "benefit_status": pa.array(benefit),
        "employer_no": pc.if_else(pa.array(has_emp), emp_no, ""),
        "employer_name": pc.if_else(pa.array(has_emp), p.emp_name.take(pa.array(emp_i)), ""),
        "insured_district_code": s(where),
    }
    return FeedChunk(cols, idx, {"kind": kind.astype(np.int64), "status": status, "months": months,
                                 "benefit": benefit})


def _tax_amounts(amount: np.ndarray) -> np.ndarray:
    taxable = np.maximum(0, amount * 0.8 - 7000)
    tax = np.select([taxable <= 3000, taxable <= 12000, taxable <= 25000],
                    [taxable * 0.03, taxable * 0.1 - 210, taxable * 0.2 - 1410], taxable * 0.25 - 2660)
    return np.round(np.maximum(tax, 0), 2)


def tax_periods(delivery_index: int, d: np.datetime64, backlog: int = 3) -> list[np.datetime64]:
    """Income periods (month starts) carried by a delivery: the previous month, plus a backlog first."""
    m = d.astype("datetime64[M]")
    k = backlog if delivery_index == 0 else 1
    return [(m - i).astype("datetime64[D]") for i in range(k, 0, -1)]


def tax(p: People, d: np.datetime64, delivery_index: int) -> FeedChunk:
    """Withholding rows: wages per earner per income period, some service fees, a few foreigners."""
    parts: list[dict[str, pa.Array]] = []
    pid: list[np.ndarray] = []
    amounts: list[np.ndarray] = []
    periods: list[np.ndarray] = []
    n_emp = len(p.emp_uscc)
    uscc = pa.array(p.emp_uscc)
    for per in tax_periods(delivery_index, d):
        pend = (per.astype("datetime64[M]") + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
        r = np.random.default_rng([p.seed, p.chunk, int(per.astype(np.int64)), 7])
        age = age_at(p.birth, pend)
        earn = (~np.isnat(p.employed_from) & (p.employed_from <= pend) & ~p.informal & (p.live_county > 0)
                & (np.isnat(p.death) | (p.death > pend)) & (np.isnat(p.moveout) | (p.moveout > pend))
                & (age < np.where(p.sex == 1, 60, 55)))
        side = p.side_income & (r.random(p.n) < 0.3) & earn
        wi, si = np.flatnonzero(earn), np.flatnonzero(side)
        idx = np.concatenate([wi, si])
        amt = np.concatenate([np.round(p.wage[wi] * r.normal(1, 0.05, len(wi)), 2),
                              np.round(r.uniform(800, 8000, len(si)), 2)])
        item = np.concatenate([np.zeros(len(wi), np.int64), np.ones(len(si), np.int64)])
        agent = np.concatenate([p.employer[wi], (p.employer[si] + 7) % n_emp])
        withheld = np.where(item == 0, _tax_amounts(amt), np.round(np.maximum(0, amt - 800) * 0.2 * 0.8, 2))
        t = pa.array(idx)
        cols = {
            "id_type": pa.array(["居民身份证"] * len(idx), pa.string()),
            "id_number": p.cid.take(t), "name": p.name.take(t),
            "income_period": pa.array([str(per)[:7]] * len(idx)),
            "income_item": pa.array(INCOME_ITEMS).take(pa.array(item)), "income_amount": money(amt),
            "tax_withheld": money(withheld), "agent_name": p.emp_name.take(pa.array(agent)),
            "agent_credit_code": uscc.take(pa.array(agent)), "tax_office_district_code": s(p.emp_county[agent]),
        }
        parts.append(cols)
        pid.append(idx)
        amounts.append(amt)
        periods.append(np.full(len(idx), per))
        # non-citizens: passports and other documents
        k = max(1, len(wi) // 3000)
        kinds = r.integers(0, 4, k)
        nums = r.integers(10**7, 10**8, k)
        doc = pa.array([
    "护照", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "外国人永久居留身份证",
]).take(
            pa.array(kinds))
        prefix = pa.array([
    "E", "H", "", "USA",
]).take(pa.array(kinds))
        agent = r.integers(0, n_emp, k)
        amt = np.round(r.uniform(8000, 40000, k), 2)
        parts.append({
            "id_type": doc, "id_number": pc.binary_join_element_wise(prefix, s(nums), ""),
            "name": pa.array(["SMITH JOHN", "LEE KA MING", "陈志明", "MUELLER ANNA", "TANAKA HIROSHI"]).take(
                pa.array(r.integers(0, 5, k))),
            "income_period": pa.array([str(per)[:7]] * k, pa.string()),
            "income_item": pa.array(["工资薪金所得"] * k, pa.string()),
            "income_amount": money(amt), "tax_withheld": money(_tax_amounts(amt)),
            "agent_name": p.emp_name.take(pa.array(agent)), "agent_credit_code": uscc.take(pa.array(agent)),
            "tax_office_district_code": s(p.emp_county[agent]),
        })
        pid.append(np.full(k, -1))
        amounts.append(amt)
        periods.append(np.full(k, per))
    cols = {c: pa.concat_arrays([part[c] for part in parts]) for c in parts[0]}
    return FeedChunk(cols, np.concatenate(pid), {"amount": np.concatenate(amounts),
                                                  "period": np.concatenate(periods)})


def marriage(p: People, d: np.datetime64, prev: np.datetime64 | None, fmt_date: str) -> FeedChunk:
    """Marriage-register events dated in (prev, d]; the first delivery carries the whole backlog."""
    mg = p.marriages
    m = mg.date <= d
    if prev is not None:
        m &= mg.date > prev
    e = np.flatnonzero(m)
    h, w = mg.husband[e], mg.wife[e]
    office = np.where(p.hukou_county[h] > 0, p.hukou_county[h],
                      np.where(p.hukou_county[w] > 0, p.hukou_county[w],
                               np.where(p.live_county[h] > 0, p.live_county[h], 330302)))
    kind = mg.kind[e]
    len(e)
    cert = pc.binary_join_element_wise(pa.array(["J", "L"]).take(pa.array(kind)), s(office),
                                       "-", s(years(mg.date[e])), "-",
                                       pad(p.start + e, 8), "")
    cols = {
        "certificate_no": cert,
        "registration_type": pa.array(["结婚登记", "离婚登记"]).take(pa.array(kind)),
        "registration_date": fmt(mg.date[e], fmt_date),
        "husband_citizen_id": p.cid.take(pa.array(h)), "husband_name": p.name.take(pa.array(h)),
        "wife_citizen_id": p.cid.take(pa.array(w)), "wife_name": p.name.take(pa.array(w)),
        "registry_office": pc.binary_join_element_wise("温州市", county_names(office), "民政局婚姻登记处", ""),
        "office_district_code": s(office),
    }
    return FeedChunk(cols, h, {"wife": w})


_SHARE_VALUES = np.array([0.3, 0.4, 0.5, 0.6, 0.7])
_SHARE_TEXT = pa.array([
    "30%", "3/10", "0.3", "40%", "2/5", "0.4", "50%", "1/2", "0.5", "60%", "3/5", "0.6", "70%", "7/10",
    "0.7",
])


def share_text(share: np.ndarray, style: np.ndarray) -> pa.Array:
    """按份共有 shares written `50%`, `1/2` or `0.5` (style 0, 1, 2)."""
    vi = np.clip(np.searchsorted(_SHARE_VALUES, np.round(np.nan_to_num(share), 2)), 0, 4)
    out = _SHARE_TEXT.take(pa.array(vi * 3 + style))
    return pc.if_else(pa.array(np.isnan(share)), pa.nulls(len(share), pa.string()), out)


def property_(p: People, d: np.datetime64, fmt_date: str) -> FeedChunk:
    """Real-estate owner rows registered by `d`; resold titles are 注销."""
    un = p.units
    r = np.flatnonzero(un.o_reg <= d)
    ui = un.o_unit[r]
    owner = un.o_owner[r]
    person = owner >= 0
    org = np.where(person, 0, -owner - 1)
    pi = np.where(person, owner, 0)
    unit = un.unit[ui]
    county = un.county[ui]
    len(r)
    unit_no = pc.binary_join_element_wise(s(county), pad(unit // 100000 % 1000 + 1000, 6), "GB",
                                          pad(unit % 100000, 5), "F", pad(unit % 9973 + 10000, 8), "")
    title = pc.binary_join_element_wise("浙(", s(years(un.o_reg[r])), ")温州市不动产权第",
                                        pad(un.o_title[r] % 10**7, 7), "号", "")
    cancelled = ~np.isnat(un.o_cancel[r]) & (un.o_cancel[r] <= d)
    cols = {
        "title_no": title, "unit_no": unit_no,
        "owner_name": pc.if_else(pa.array(person), p.name.take(pa.array(pi)), p.emp_name.take(pa.array(org))),
        "owner_id_type": pc.if_else(pa.array(person), "居民身份证", "统一社会信用代码"),
        "owner_id_number": pc.if_else(pa.array(person), p.cid.take(pa.array(pi)),
                                      pa.array(p.emp_uscc).take(pa.array(org))),
        "co_ownership": CO_MODES.take(pa.array(un.o_mode[r])),
        "share": share_text(un.o_share[r], unit % 3),
        "location": pc.binary_join_element_wise(address(county, unit, "温州市"), s(unit % 30 + 1), "幢",
                                                s((unit % 28 + 1) * 100 + unit % 4 + 1), "室", ""),
        "district_code": s(county), "usage": USAGES.take(pa.array(un.usage[ui])),
        "floor_area": money(un.area[ui]), "registration_date": fmt(un.o_reg[r], fmt_date),
        "title_status": pc.if_else(pa.array(cancelled), "注销", "现势"),
    }
    return FeedChunk(cols, np.where(person, owner, -1), {"unit": ui, "current": ~cancelled})
