"""One chunk of synthetic people: households, identities, life events over the delivery window.

Everything is vectorised with NumPy over the chunk; cross-person structure (households, couples, ex-couples,
new marriages, property co-owners) is built inside the chunk, so chunks are independent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.lib.generator import ids, names

H, S, C, P = 0, 1, 2, 3
NAT = np.datetime64("NaT", "D")
# (size, roles, probability within that size)
TEMPLATES: list[tuple[int, tuple[int, ...], float]] = [
    (1, (H,), 1.0),
    (2, (H, S), 0.8), (2, (H, C), 0.2),
    (3, (H, S, C), 0.8), (3, (H, C, C), 0.05), (3, (H, P, P), 0.15),
    (4, (H, S, C, C), 0.6), (4, (H, S, P, P), 0.4),
    (5, (H, S, C, P, P), 1.0),
    (6, (H, S, C, C, P, P), 1.0),
]
SIZE_P = {1: 0.31, 2: 0.31, 3: 0.20, 4: 0.11, 5: 0.05, 6: 0.02}
ROLE_TABLE = np.full((len(TEMPLATES), 6), -1, dtype=np.int8)
for _i, (_s, _roles, _p) in enumerate(TEMPLATES):
    ROLE_TABLE[_i, : len(_roles)] = _roles

MARITAL = np.array(["未婚", "已婚", "离婚", "丧偶"])


@dataclass
class Window:
    """The delivery dates (month ends) of the run."""

    deliveries: list[np.datetime64]

    @property
    def first(self) -> np.datetime64:
        return self.deliveries[0]

    @property
    def last(self) -> np.datetime64:
        return self.deliveries[-1]


@dataclass
class Marriages:
    """Marriage-register events of a chunk: local person indexes of husband and wife."""

    date: np.ndarray
    kind: np.ndarray  # 0 结婚登记, 1 离婚登记
    husband: np.ndarray
    wife: np.ndarray


@dataclass
class Units:
    """Registered real-estate units and their owner rows (owner < 0: organisation -owner-1)."""

    unit: np.ndarray  # global unit number
    county: np.ndarray
    usage: np.ndarray  # index into USAGES
    area: np.ndarray
    reg_date: np.ndarray
    cancel_date: np.ndarray
    o_unit: np.ndarray  # owner rows: position in the unit arrays
    o_owner: np.ndarray
    o_mode: np.ndarray  # 0 单独所有 1 共同共有 2 按份共有
    o_share: np.ndarray  # share as a fraction (按份共有) else nan
    o_title: np.ndarray  # global title number
    o_reg: np.ndarray  # registration date of the owner row
    o_cancel: np.ndarray  # date the row's title was cancelled (NaT: current)


@dataclass
class People:
    """A chunk of persons and everything the feeds are derived from (arrays indexed by local person)."""

    chunk: int
    start: int
    n: int
    hh: np.ndarray
    role: np.ndarray
    sex: np.ndarray
    birth: np.ndarray
    floating: np.ndarray
    hukou_county: np.ndarray
    household_no: pa.Array
    id_addr: np.ndarray
    cid: pa.Array
    name: pa.Array
    ethnicity: np.ndarray
    live_county: np.ndarray
    away: np.ndarray
    death: np.ndarray
    moveout: np.ndarray
    resreg_date: np.ndarray
    permit: np.ndarray
    dwelling: np.ndarray
    employed_from: np.ndarray
    informal: np.ndarray
    civil: np.ndarray
    employer: np.ndarray
    wage: np.ndarray
    side_income: np.ndarray
    retired_worker: np.ndarray
    college: np.ndarray
    attainment: np.ndarray  # adults' highest GB/T 4658 code with a record here, 0 none
    former_nature: np.ndarray  # 0 empty, 1 农业, 2 非农业
    marital: np.ndarray
    spouse: np.ndarray
    marriages: Marriages
    units: Units
    emp_uscc: list[str]
    emp_county: np.ndarray
    emp_name: pa.Array
    u: np.ndarray  # per-person uniforms, fixed across deliveries (n, 8)
    seed: int


def years(d: np.ndarray | np.datetime64) -> np.ndarray:
    """Calendar year of datetime64[D] values."""
    return np.asarray(d).astype("datetime64[Y]").astype(np.int64) + 1970


def age_at(birth: np.ndarray, when: np.datetime64) -> np.ndarray:
    """Whole years of age on `when`."""
    return ((when - birth).astype(np.int64) / 365.2425).astype(np.int64)


def _days(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return rng.uniform(lo, hi, n).astype(np.int64).astype("timedelta64[D]")


def _households(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(household of each person, role of each person, template of each household)."""
    sizes_v = np.array(list(SIZE_P))
    sizes = rng.choice(sizes_v, size=int(n / 2.2) + 16, p=np.array(list(SIZE_P.values())))
    while sizes.sum() < n:
        sizes = np.concatenate([sizes, rng.choice(sizes_v, size=64, p=np.array(list(SIZE_P.values())))])
    csum = np.cumsum(sizes)
    last = int(np.searchsorted(csum, n))
    sizes = sizes[: last + 1].copy()
    sizes[-1] -= csum[last] - n
    tmpl = np.empty(len(sizes), dtype=np.int64)
    full_sizes = np.concatenate([sizes[:-1], [min(6, max(1, sizes[-1]))]])
    for s in SIZE_P:
        opts = [i for i, t in enumerate(TEMPLATES) if t[0] == s]
        probs = np.array([TEMPLATES[i][2] for i in opts])
        m = full_sizes == s
        tmpl[m] = rng.choice(opts, size=int(m.sum()), p=probs / probs.sum())
    hh = np.repeat(np.arange(len(sizes)), sizes)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos = np.arange(n) - first[hh]
    return hh, ROLE_TABLE[tmpl[hh], pos].astype(np.int8), tmpl


def _unique_seq(birth: np.ndarray, addr: np.ndarray, sex: np.ndarray, chunk: int, n_chunks: int) -> np.ndarray:
    """Sequence numbers unique over all chunks for (address, birth date, sex); may shift birth dates."""
    while True:
        key = (ids.first17(addr, birth, np.zeros(len(addr), dtype=np.int64)) // 1000) * 2 + (sex - 1)
        order = np.argsort(key, kind="stable")
        ks = key[order]
        new_group = np.concatenate([[True], ks[1:] != ks[:-1]])
        group_start = np.maximum.accumulate(np.where(new_group, np.arange(len(ks)), 0))
        rank = np.empty(len(ks), dtype=np.int64)
        rank[order] = np.arange(len(ks)) - group_start
        core = rank * n_chunks + chunk
        over = core >= 499
        if not over.any():
            break
        birth = birth.copy()
        birth[over] = birth[over] - np.timedelta64(1, "D")
    mapped = (core * 211 + key % 499) % 499  # a per-group shift keeps it a bijection within the group
    return birth, 2 * mapped + np.where(sex == 1, 1, 2)


def make_people(rng: np.random.Generator, seed: int, chunk: int, start: int, n: int, n_chunks: int,
                win: Window) -> People:
    """Generate one chunk of `n` persons with households, identities and events in the window."""
    R, L = win.first, win.last
    span_days = int((L - R).astype(np.int64))
    hh, role, tmpl = _households(rng, n)
    n_hh = len(tmpl)
    hfloat = rng.random(n_hh) < 0.135
    floating = hfloat[hh]
    # --- ages (years at R) and sexes
    head_age = np.empty(n_hh)
    t_roles = [TEMPLATES[t][1] for t in range(len(TEMPLATES))]
    for t, roles in enumerate(t_roles):
        m = tmpl == t
        k = int(m.sum())
        if roles == (H,):
            a = np.where(rng.random(k) < 0.6, rng.uniform(20, 40, k),
                         np.where(rng.random(k) < 0.62, rng.uniform(40, 60, k), rng.uniform(60, 88, k)))
        elif roles == (H, S):
            a = np.where(rng.random(k) < 0.45, rng.uniform(22, 36, k), rng.uniform(50, 86, k))
        elif roles in ((H, C), (H, C, C)):
            a = rng.uniform(33, 58, k)
        elif roles in ((H, P, P), (H, S, P, P)):
            a = rng.uniform(24, 50, k)
        else:
            a = rng.uniform(28, 56, k)
        head_age[m] = a
    head_age[hfloat] = np.minimum(head_age[hfloat], rng.uniform(20, 58, int(hfloat.sum())))
    has_spouse = np.array([S in r for r in t_roles])[tmpl]
    head_male = rng.random(n_hh) < np.where(has_spouse, 0.8, np.where(hfloat, 0.75, 0.64))
    spouse_gap = rng.normal(2.0, 2.5, n_hh)
    sex = np.empty(n, dtype=np.int8)
    age = np.empty(n)
    hm = head_male[hh]
    ha = head_age[hh]
    is_h, is_s, is_c, is_p = role == H, role == S, role == C, role == P
    sex[is_h] = np.where(hm[is_h], 1, 2)
    sex[is_s] = np.where(hm[is_s], 2, 1)
    age[is_h] = ha[is_h]
    age[is_s] = np.maximum(20.5, ha[is_s] + np.where(hm[is_s], -1, 1) * spouse_gap[hh][is_s])
    mother_age = np.where(hm, np.maximum(20.5, ha - spouse_gap[hh]), ha)
    kc = int(is_c.sum())
    ca = mother_age[is_c] - rng.uniform(22, 38, kc)
    unborn = ca < -span_days / 365.2425
    ca[unborn] = rng.uniform(0, 1, int(unborn.sum())) * np.clip(mother_age[is_c][unborn] - 22, 0.5, 16)
    age[is_c] = ca
    sex[is_c] = np.where(rng.random(kc) < 0.53, 1, 2)
    # parents: first P is the father, second the mother
    p_first = is_p & (np.concatenate([[False], role[:-1] == P]) == 0)
    sex[is_p] = np.where(p_first[is_p], 1, 2)
    age[is_p] = np.minimum(99, ha[is_p] + rng.uniform(24, 33, int(is_p.sum())) + np.where(p_first[is_p], 2, 0))
    birth = R - (age * 365.2425).astype(np.int64).astype("timedelta64[D]")
    birth = np.minimum(birth, L)
    # --- hukou, address codes
    hcounty = ids.COUNTY_CODES[rng.choice(len(ids.COUNTY_CODES), size=n_hh, p=ids.COUNTY_P)]
    hukou_county = np.where(floating, 0, hcounty[hh]).astype(np.int32)
    by = years(birth)
    id_addr = hukou_county.copy()
    for cur, (old, since) in ids.RETIRED_FOR.items():
        m = (hukou_county == cur) & (by < since)
        id_addr[m] = np.where(rng.random(int(m.sum())) < 0.75, old, cur)
    married_in = (~floating) & is_s & (rng.random(n) < 0.08)
    mig = floating | married_in
    id_addr[mig] = ids.migrant_codes(rng, by[mig])
    # a floating family shares the head's place of origin where that code existed at each birth
    codes, first_y, last_y, _ = ids.migrant_code_table()
    head_idx = np.concatenate([[0], np.flatnonzero(np.diff(hh)) + 1])
    fam_code = id_addr[head_idx][hh]
    pos = np.searchsorted(codes, fam_code) if np.all(np.diff(codes) >= 0) else None
    if pos is not None:
        pos = np.clip(pos, 0, len(codes) - 1)
        ok = floating & (codes[pos] == fam_code) & (first_y[pos] <= by) & (last_y[pos] >= by)
        id_addr[ok] = fam_code[ok]
    birth, seq = _unique_seq(birth, id_addr, sex, chunk, n_chunks)
    f17 = ids.first17(id_addr, birth, seq)
    cid = ids.build_ids(f17)
    # --- names
    sur_h = names.surnames(rng, n_hh, ~hfloat)
    sur_own = names.surnames(rng, n, ~floating)
    father_sur = sur_h.take(pa.array(hh))
    use_family = pa.array(is_h | (is_c & (rng.random(n) < 0.92)) | (p_first & hm))
    sur = pc.if_else(use_family, father_sur, sur_own)
    name = pc.binary_join_element_wise(sur, names.given_names(rng, sex), "")
    ethnicity = np.ones(n, dtype=np.int8)
    she = (~floating) & np.isin(sur.to_numpy(zero_copy_only=False), ["雷", "蓝", "钟"]) & (rng.random(n) < 0.7)
    ethnicity[she] = 22
    dot_hh = hfloat & (rng.random(n_hh) < 0.02)
    dot = dot_hh[hh]
    if dot.any():
        dn, de = names.dot_names(rng, sex[dot])
        name_np = name.to_numpy(zero_copy_only=False).astype(object)
        name_np[dot] = dn.to_numpy(zero_copy_only=False)
        name = pa.array(name_np, pa.string())
        ethnicity[dot] = de
    other_min = hfloat & ~dot_hh & (rng.random(n_hh) < 0.08)
    ethnicity[other_min[hh]] = rng.choice([6, 9, 15, 8, 3], size=int(other_min[hh].sum()))
    household_no = pc.if_else(
        pa.array(floating), pa.nulls(n, pa.string()),
        pc.binary_join_element_wise(pa.array(hukou_county).cast(pa.string()),
                                    pc.utf8_lpad(pa.array(start + hh).cast(pa.string()), 9, "0"), ""))
    # --- where people live
    away_hh = (~hfloat) & (rng.random(n_hh) < 0.06)
    adult = (age >= 18) & (age < 45)
    away = (~floating) & (away_hh[hh] | (adult & (is_c | (is_h & ~has_spouse[hh])) & (rng.random(n) < 0.12)))
    other_county = ids.COUNTY_CODES[rng.choice(len(ids.COUNTY_CODES), size=n_hh, p=ids.COUNTY_P)]
    sep_hh = rng.random(n_hh) < 0.12
    live_hh = np.where(hfloat | sep_hh, other_county, hcounty)
    live_county = np.where(away, 0, live_hh[hh]).astype(np.int32)
    # --- deaths and moves out (hukou only)
    elderly_couple = is_s & (head_age[hh] >= 65)
    p_hist = np.clip((age - 55) / 40, 0, 1) ** 2 * 0.3
    p_hist = np.where(elderly_couple, 0.3, p_hist)
    p_hist = np.where(is_p & ~p_first, 0.15, np.where(is_p, 0.45, p_hist))
    hist_dead = (~floating) & (rng.random(n) < p_hist) & ~is_c
    death = np.full(n, NAT)
    death[hist_dead] = R - _days(rng, 1, 3000, int(hist_dead.sum()))
    months = max(1, len(win.deliveries) - 1)
    hazard = 0.0003 * np.exp((age - 60) / 11)
    win_dead = (~floating) & ~hist_dead & (rng.random(n) < 1 - (1 - np.clip(hazard, 0, 0.2)) ** months)
    win_dead &= span_days > 0
    death[win_dead] = R + _days(rng, 1, span_days + 1, int(win_dead.sum()))
    death = np.maximum(death, birth + np.timedelta64(1, "D"), where=~np.isnat(death), out=death.copy())
    moveout = np.full(n, NAT)
    alive_hk = (~floating) & np.isnat(death)
    hist_mv = alive_hk & (rng.random(n) < 0.012)
    moveout[hist_mv] = R - _days(rng, 30, 1000, int(hist_mv.sum()))
    win_mv = alive_hk & ~hist_mv & (rng.random(n) < 0.0008 * months) & (span_days > 0)
    moveout[win_mv] = R + _days(rng, 1, span_days + 1, int(win_mv.sum()))
    moveout = np.where(~np.isnat(moveout), np.maximum(moveout, birth + np.timedelta64(1, "D")), moveout)
    live_county[hist_mv] = 0
    # --- residence registration (floating)
    reg_hh = hfloat & (rng.random(n_hh) < 0.88)
    registered = reg_hh[hh] & ((age >= 16) | (rng.random(n) < 0.4))
    resreg_date = np.full(n, NAT)
    rd = R - _days(rng, 20, 2500, n)
    late = (rng.random(n) < 0.02) & (span_days > 0)
    rd[late] = R + _days(rng, 1, span_days + 1, int(late.sum()))
    rd = np.maximum(rd, birth)
    resreg_date[registered] = rd[registered]
    permit = registered & (rng.random(n) < 0.75) & (age >= 16)
    dwelling = rng.choice(4, size=n, p=[0.12, 0.65, 0.15, 0.08])
    # --- work, income, pensions, schooling
    retire_age = np.where(sex == 1, 60, 55)
    working_age = (age >= 18) & (age < retire_age)
    college = (~floating) & (age >= 18) & (age < 22) & (rng.random(n) < 0.35) & (live_county > 0)
    employed = working_age & ~college & (live_county > 0) & (
        rng.random(n) < np.where(floating, 0.9, np.where(sex == 1, 0.8, 0.68)))
    employed_from = np.full(n, NAT)
    start_age = np.minimum(age, rng.uniform(18, 26, n))
    employed_from[employed] = (birth + (start_age * 365.2425).astype(np.int64).astype("timedelta64[D]"))[employed]
    employed_from = np.minimum(employed_from, R - np.timedelta64(31, "D"), where=employed, out=employed_from)
    new_job = working_age & ~employed & ~college & (live_county > 0) & (rng.random(n) < 0.015) & (span_days > 0)
    employed_from[new_job] = R + _days(rng, 1, span_days + 1, int(new_job.sum()))
    informal = rng.random(n) < 0.08
    civil = (~floating) & (rng.random(n) < 0.06)
    wage = np.round(np.maximum(2490, rng.lognormal(np.log(6800), 0.55, n) * np.where(civil, 1.25, 1.0)), 2)
    side_income = rng.random(n) < 0.03
    retired_worker = (age >= retire_age) & (rng.random(n) < np.where(floating, 0.3, 0.55))
    n_emp = max(12, n // 25)
    emp_county = np.sort(ids.COUNTY_CODES[rng.choice(len(ids.COUNTY_CODES), size=n_emp, p=ids.COUNTY_P)])
    emp_uscc = ids.make_uscc(rng, emp_county)
    emp_name = employer_names(rng, emp_county)
    cstart = np.searchsorted(emp_county, ids.COUNTY_CODES)
    cend = np.searchsorted(emp_county, ids.COUNTY_CODES, side="right")
    lc = np.where(live_county > 0, live_county, hcounty[hh])
    ci = np.searchsorted(ids.COUNTY_CODES, lc)
    ci = np.clip(ci, 0, len(ids.COUNTY_CODES) - 1)
    cnt = np.maximum(cend[ci] - cstart[ci], 1)
    employer = np.minimum(cstart[ci] + (rng.random(n) * cnt).astype(np.int64), n_emp - 1)
    cohort = by
    att_p = np.where(cohort[:, None] >= 1985, [[0.01, 0.05, 0.30, 0.22, 0.12, 0.15, 0.13, 0.02]],
                     [[0.003, 0.02, 0.12, 0.12, 0.12, 0.22, 0.30, 0.097]])
    att_codes = np.array([11, 14, 21, 31, 41, 61, 71, 81])
    u = rng.random(n)[:, None]
    att_idx = (u > np.cumsum(att_p, axis=1)).sum(axis=1).clip(0, 7)
    attainment = np.where((age >= 22) & (age < 56) & (live_county > 0) & (rng.random(n) < 0.75),
                          att_codes[att_idx], 0)
    former_nature = np.where(floating | (by >= 2016), 0, np.where(rng.random(n) < 0.55, 1, 2))
    # --- marriages
    spouse = np.full(n, -1, dtype=np.int64)
    marital = np.zeros(n, dtype=np.int8)
    ev_date, ev_kind, ev_h, ev_w = [], [], [], []
    head_of = head_idx[hh]
    cpl_s = np.flatnonzero(is_s)
    cpl_h = head_of[cpl_s]
    pf = np.flatnonzero(p_first)
    pf = pf[(pf + 1 < n) & (role[np.minimum(pf + 1, n - 1)] == P) & (hh[np.minimum(pf + 1, n - 1)] == hh[pf])]
    a_idx = np.concatenate([cpl_h, pf])
    b_idx = np.concatenate([cpl_s, pf + 1])
    husband = np.where(sex[a_idx] == 1, a_idx, b_idx)
    wife = np.where(sex[a_idx] == 1, b_idx, a_idx)
    mdate = _marriage_date(rng, birth[husband], birth[wife], R)
    spouse[husband], spouse[wife] = wife, husband
    marital[husband] = marital[wife] = 1
    ev_date.append(mdate), ev_kind.append(np.zeros(len(husband), np.int8))
    ev_h.append(husband), ev_w.append(wife)
    # ex-couples: single heads and single parents, paired within the chunk
    single = is_h & ~has_spouse[hh] & (age >= 28) & (age < 65)
    pool = single & ((tmpl[hh] != 0) | (rng.random(n) < 0.3))
    men, women = np.flatnonzero(pool & (sex == 1)), np.flatnonzero(pool & (sex == 2))
    k = min(len(men), len(women))
    if k:
        men, women = rng.permutation(men)[:k], rng.permutation(women)[:k]
        md = _marriage_date(rng, birth[men], birth[women], R - np.timedelta64(400, "D"))
        dd = md + ((R - md).astype(np.int64) * rng.uniform(0.2, 0.9, k)).astype(np.int64).astype("timedelta64[D]")
        marital[men] = marital[women] = 2
        ev_date += [md, dd]
        ev_kind += [np.zeros(k, np.int8), np.ones(k, np.int8)]
        ev_h += [men, men]
        ev_w += [women, women]
    if span_days > 0:
        # new marriages in the window
        free = (marital == 0) & np.isnat(death) & np.isnat(moveout) & ~is_s & ~is_p
        men = np.flatnonzero(free & (sex == 1) & (age >= 24) & (age < 37))
        women = np.flatnonzero(free & (sex == 2) & (age >= 22) & (age < 34))
        k = min(len(men), len(women), rng.binomial(n, 0.00035 * months))
        if k:
            men, women = rng.choice(men, k, replace=False), rng.choice(women, k, replace=False)
            md = R + _days(rng, 1, span_days + 1, k)
            spouse[men], spouse[women] = women, men
            marital[men] = marital[women] = 1
            ev_date.append(md), ev_kind.append(np.zeros(k, np.int8)), ev_h.append(men), ev_w.append(women)
        # divorces in the window
        both_alive = np.isnat(death[husband]) & np.isnat(death[wife])
        div = both_alive & (rng.random(len(husband)) < 0.0002 * months)
        k = int(div.sum())
        if k:
            dh, dw = husband[div], wife[div]
            ev_date.append(R + _days(rng, 1, span_days + 1, k)), ev_kind.append(np.ones(k, np.int8))
            ev_h.append(dh), ev_w.append(dw)
            spouse[dh] = spouse[dw] = -1
            marital[dh] = marital[dw] = 2
    # widowed: spouse died before the last delivery
    has_sp = spouse >= 0
    sp_dead = np.zeros(n, dtype=bool)
    sp_dead[has_sp] = ~np.isnat(death[spouse[has_sp]])
    marital[sp_dead] = 3
    spouse[sp_dead] = -1
    marriages = Marriages(np.concatenate(ev_date), np.concatenate(ev_kind), np.concatenate(ev_h),
                          np.concatenate(ev_w))
    units = _units(rng, start, n, hh, role, head_idx, spouse, floating, away, live_county, hcounty, birth,
                   death, age, win, n_emp)
    return People(
        chunk=chunk, start=start, n=n, hh=hh, role=role, sex=sex, birth=birth, floating=floating,
        hukou_county=hukou_county, household_no=household_no, id_addr=id_addr, cid=cid, name=name,
        ethnicity=ethnicity, live_county=live_county, away=away, death=death, moveout=moveout,
        resreg_date=resreg_date, permit=permit, dwelling=dwelling, employed_from=employed_from,
        informal=informal, civil=civil, employer=employer, wage=wage, side_income=side_income,
        retired_worker=retired_worker, college=college, attainment=attainment, former_nature=former_nature,
        marital=marital, spouse=spouse, marriages=marriages, units=units, emp_uscc=emp_uscc,
        emp_county=emp_county, emp_name=emp_name, u=rng.random((n, 8)), seed=seed,
    )


def _marriage_date(rng: np.random.Generator, hb: np.ndarray, wb: np.ndarray, cap: np.datetime64) -> np.ndarray:
    """A plausible registration date: both of legal age, at most `cap`."""
    legal = np.maximum(hb + np.timedelta64(int(22 * 365.25) + 1, "D"), wb + np.timedelta64(int(20 * 365.25) + 1, "D"))
    d = legal + _days(rng, 0, 6 * 365, len(hb))
    return np.maximum(np.minimum(d, cap - np.timedelta64(1, "D")), legal)


_EMP_A = pa.array([
    "华瑞", "东瓯", "鹿城", "永强", "瓯江", "正泰", "德力西", "奥康", "红蜻蜓", "报喜鸟", "森马", "人本",
    "天正", "康奈", "吉尔达", "新湖", "瑞明", "联合", "恒达", "宏丰", "金鹰", "海特", "国信", "中瑞", "立新",
    "鸿运", "龙腾", "锦程", "百川", "通达",
])
_EMP_B = pa.array([
    "电气", "鞋业", "服饰", "科技", "机械", "汽摩配件", "眼镜", "阀门", "泵业", "建设", "贸易", "物流",
    "电子", "塑业", "印刷", "包装", "食品", "医药",
])
_EMP_C = pa.array([
    "有限公司", "股份有限公司", "集团有限公司",
])


def employer_names(rng: np.random.Generator, county: np.ndarray) -> pa.Array:
    """Company names such as 温州华瑞电气有限公司 (a serial keeps them distinct)."""
    n = len(county)
    a = _EMP_A.take(pa.array(rng.integers(0, len(_EMP_A), n)))
    b = _EMP_B.take(pa.array(rng.integers(0, len(_EMP_B), n)))
    c = _EMP_C.take(pa.array(rng.choice(3, n, p=[0.8, 0.12, 0.08])))
    return pc.binary_join_element_wise("温州", a, b, c, "")


def _units(rng: np.random.Generator, start: int, n: int, hh: np.ndarray, role: np.ndarray, head_idx: np.ndarray,
           spouse: np.ndarray, floating: np.ndarray, away: np.ndarray, live_county: np.ndarray,
           hcounty: np.ndarray, birth: np.ndarray, death: np.ndarray, age: np.ndarray, win: Window,
           n_emp: int) -> Units:
    """Units owned by households (sole, joint, by shares), organisations, and resales in the window."""
    R, L = win.first, win.last
    span = int((L - R).astype(np.int64))
    heads = head_idx
    h_adult = age[heads] >= 22
    p_own = np.where(floating[heads], 0.12, np.where(away[heads], 0.4, 0.78)) * h_adult
    owns = rng.random(len(heads)) < p_own
    second = owns & (rng.random(len(heads)) < 0.22)
    owner_heads = np.concatenate([heads[owns], heads[second]])
    k = len(owner_heads)
    sp = spouse[owner_heads]
    mode = np.where(sp >= 0, rng.choice(3, size=k, p=[0.25, 0.55, 0.20]), 0)
    county = np.where(live_county[owner_heads] > 0, live_county[owner_heads], hcounty[hh[owner_heads]])
    reg = R - _days(rng, 60, 20 * 365, k)
    reg = np.maximum(reg, birth[owner_heads] + np.timedelta64(22 * 365, "D"))
    reg = np.minimum(reg, R - np.timedelta64(1, "D"))
    usage = np.where(rng.random(k) < 0.92, 0, rng.choice([1, 2, 4], size=k))
    # organisation-owned units
    k_org = max(1, k // 20)
    org = rng.integers(0, n_emp, k_org)
    org_county = ids.COUNTY_CODES[rng.choice(len(ids.COUNTY_CODES), size=k_org, p=ids.COUNTY_P)]
    org_reg = R - _days(rng, 60, 15 * 365, k_org)
    n_units = k + k_org
    unit = start * 2 + np.arange(n_units)
    u_county = np.concatenate([county, org_county]).astype(np.int32)
    u_usage = np.concatenate([usage, rng.choice([1, 2, 3], size=k_org)])
    big = np.arange(n_units) >= k
    u_area = np.round(np.where(u_usage == 0, rng.uniform(45, 180, n_units),
                               np.where(big, rng.uniform(80, 3000, n_units), rng.uniform(20, 260, n_units))), 2)
    u_reg = np.concatenate([reg, org_reg])
    cancel = np.full(n_units, NAT)
    # owner rows
    first_share = np.where(rng.random(k) < 0.7, 0.5, np.where(rng.random(k) < 0.5, 0.6, 0.7))
    o_unit = [np.arange(k), np.flatnonzero(mode > 0), np.arange(k, n_units)]
    o_owner = [owner_heads, sp[mode > 0], -org - 1]
    o_mode = [mode, mode[mode > 0], np.zeros(k_org, np.int64)]
    o_share = [np.where(mode == 2, first_share, np.nan), np.where(mode[mode > 0] == 2, 1 - first_share[mode > 0],
                                                                  np.nan), np.full(k_org, np.nan)]
    # resales in the window: the old title is cancelled, a new single owner registers the same unit
    if span > 0:
        sold = np.flatnonzero(rng.random(k) < 0.002 * max(1, len(win.deliveries) - 1))
        buyers_pool = np.flatnonzero((age >= 25) & (live_county > 0) & np.isnat(death))
        if len(sold) and len(buyers_pool):
            sale = R + _days(rng, 1, span + 1, len(sold))
            cancel[sold] = sale
            buyers = rng.choice(buyers_pool, size=len(sold))
            o_unit.append(sold)
            o_owner.append(buyers)
            o_mode.append(np.zeros(len(sold), np.int64))
            o_share.append(np.full(len(sold), np.nan))
            u_new_reg = sale
        else:
            sold = np.zeros(0, np.int64)
            u_new_reg = np.zeros(0, "datetime64[D]")
    else:
        sold = np.zeros(0, np.int64)
        u_new_reg = np.zeros(0, "datetime64[D]")
    ou = np.concatenate(o_unit)
    n_base = len(ou) - len(sold)
    titles = np.concatenate([start * 2 + ou[:n_base], start * 2 + n_units + np.arange(len(sold))])
    o_reg = np.concatenate([u_reg[ou[:n_base]], u_new_reg])
    o_cancel = np.concatenate([cancel[ou[:n_base]], np.full(len(sold), NAT)])
    return Units(unit=unit, county=u_county, usage=u_usage, area=u_area, reg_date=u_reg, cancel_date=cancel,
                 o_unit=ou, o_owner=np.concatenate(o_owner), o_mode=np.concatenate(o_mode),
                 o_share=np.concatenate(o_share), o_title=titles, o_reg=o_reg, o_cancel=o_cancel)
