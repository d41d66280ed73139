"""Row-level defects of feeds.md "Known defects", injected into a chunk's clean rows and recorded as truth.

Each injected defect changes (or appends) one row; a row carries at most one defect, so the expected outcome
(`REPAIRED`, `DUPLICATE`, a quarantine reason code or a flag code) is unambiguous. The loop is per injected
defect on a small sample, never per row of the feed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.lib.citizen_id import CHECK_CHARS, check_char
from pipelines.lib.generator import ids, names
from pipelines.lib.generator.feeds_build import FeedChunk, fmt, money
from pipelines.lib.generator.population import People, age_at
from pipelines.lib.generator.writers import INVALID_BYTES_MARK

ALL = ("hukou", "residence_permit", "education", "social_insurance", "tax", "marriage", "property")
DEPT = ("education", "social_insurance", "tax", "marriage", "property")
TEXT = ("hukou", "residence_permit", "education", "tax", "marriage")  # CSV feeds (marriage: backlog)
Pick = Callable[..., np.ndarray]  # pick(kind, candidates=None): the rows one defect kind lands on

# kind -> (expected outcome, feeds, weight relative to defect_rate)
KINDS: dict[str, tuple[str, tuple[str, ...], float]] = {
    "id_fullwidth": ("REPAIRED", ALL, 0.06), "id_lowercase_x": ("REPAIRED", ALL, 0.04),
    "id_spaces": ("REPAIRED", ALL, 0.05), "id_tab": ("REPAIRED", ALL, 0.03),
    "id_hyphen": ("REPAIRED", ALL, 0.03), "id_apostrophe": ("REPAIRED", ALL, 0.04),
    "id_quotes": ("REPAIRED", ALL, 0.03), "id_legacy_15": ("REPAIRED", ALL, 0.03),
    "id_checksum": ("ID_CHECKSUM", ALL, 0.04), "id_impossible_birth_date": ("ID_BIRTH_DATE", ALL, 0.02),
    "id_future_birth_date": ("ID_BIRTH_DATE", ALL, 0.01), "id_unknown_region": ("ID_REGION", ALL, 0.02),
    "id_excel_scientific": ("ID_PRECISION_LOST", ALL, 0.03), "id_excel_trailing_000": ("ID_PRECISION_LOST", ALL, 0.02),
    "id_missing": ("ID_MISSING", ALL, 0.03),
    "sex_mismatch": ("SEX_MISMATCH", ("hukou", "residence_permit", "education", "social_insurance"), 0.03),
    "birth_date_mismatch": ("BIRTH_DATE_MISMATCH", ("hukou", "residence_permit"), 0.03),
    "name_dot_variant": ("REPAIRED", ALL, 0.02), "name_fullwidth_space": ("REPAIRED", ALL, 0.03),
    "name_typo": ("NAME_MISMATCH", DEPT, 0.03), "name_traditional": ("NAME_MISMATCH", DEPT, 0.02),
    "date_mixed_format": ("REPAIRED", ("hukou", "residence_permit", "education", "social_insurance", "marriage",
                                       "property"), 0.08),
    "date_excel_serial": ("REPAIRED", ("marriage",), 0.05), "date_invalid": ("DATE_INVALID", ALL, 0.02),
    "amount_thousands": ("REPAIRED", ("tax",), 0.05), "amount_fullwidth": ("REPAIRED", ("tax", "property"), 0.03),
    "duplicate_row": ("DUPLICATE", ALL, 0.05), "key_conflict": ("KEY_CONFLICT", ALL, 0.02),
    "row_wrong_field_count": ("ROW_MALFORMED", TEXT, 0.02), "row_invalid_bytes": ("ROW_MALFORMED", TEXT, 0.02),
    "row_invalid_json": ("ROW_MALFORMED", ("social_insurance",), 0.03),
    "value_invalid": ("VALUE_INVALID", ALL, 0.03), "multiple_hukou": ("MULTIPLE_HUKOU", ("hukou",), 0.02),
    "activity_after_death": ("ACTIVITY_AFTER_DEATH", ("tax", "social_insurance", "property"), 0.02),
    "benefit_after_death": ("BENEFIT_AFTER_DEATH", ("social_insurance",), 0.03),
    "underage_marriage": ("UNDERAGE_MARRIAGE", ("marriage",), 0.02), "bigamy": ("BIGAMY", ("marriage",), 0.02),
    "same_sex_marriage_record": ("SAME_SEX_MARRIAGE_RECORD", ("marriage",), 0.02),
    "shares_not_100": ("SHARES_NOT_100", ("property",), 0.05),
}
ID_COL = {"hukou": "citizen_id", "residence_permit": "citizen_id", "education": "citizen_id",
          "social_insurance": "citizen_id", "tax": "id_number", "marriage": "husband_citizen_id",
          "property": "owner_id_number"}
DATE_COL = {"hukou": "birth_date", "residence_permit": "registration_date", "education": "enrolment_date",
            "social_insurance": "insured_since", "tax": "income_period", "marriage": "registration_date",
            "property": "registration_date"}
INVALID_DATE = {"hukou": "19901331", "residence_permit": "2023-02-30", "education": "2020/13/01",
                "social_insurance": "20190231", "tax": "2026-13", "marriage": "2025-02-29",
                "property": "2021-04-31"}
INVALID_VALUE = {"hukou": ("relation_code", "98"), "residence_permit": ("dwelling_type", "宾馆"),
                 "education": ("school_stage", "大学"), "social_insurance": ("insured_status", "9"),
                 "tax": ("income_item", "其他所得"), "marriage": ("registration_type", "复婚登记"),
                 "property": ("usage", "车位")}
CONFLICT_COL = {"hukou": "hukou_address", "residence_permit": "residence_address", "education": "school_name",
                "social_insurance": "months_paid", "tax": "income_amount", "marriage": "registry_office",
                "property": "floor_area"}
FULLWIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


@dataclass
class Injected:
    """Defects injected into one chunk of one delivery: local row indexes and what is expected of them."""

    rows: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    column: list[str | None] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    cid: list[str] = field(default_factory=list)
    line_edits: dict[int, str] = field(default_factory=dict)  # local row -> wrong_fields / bad_json

    def add(self, row: int, kind: str, column: str | None, cid: str, expected: str | None = None) -> None:
        self.rows.append(row)
        self.kind.append(kind)
        self.column.append(column)
        self.expected.append(expected or KINDS[kind][0])
        self.cid.append(cid)


def rates_for(defect_rate: float, overrides: Mapping[str, float] | None) -> dict[str, float]:
    """Per-kind probability per row: defect_rate × weight, overridden per kind by an explicit dict."""
    out = {k: defect_rate * w for k, (_, _, w) in KINDS.items()}
    for k, v in (overrides or {}).items():
        if k not in KINDS:
            raise ValueError(f"unknown defect kind {k!r}; known kinds: {', '.join(sorted(KINDS))}")
        if not 0 <= v <= 0.2:
            raise ValueError(f"defect rate for {k!r} must be between 0 and 0.2, got {v}")
        out[k] = v
    return out


class _Editor:
    """Collects value replacements and appended rows for a FeedChunk, applied in one go."""

    def __init__(self, fc: FeedChunk) -> None:
        self.fc = fc
        self.sets: dict[str, dict[int, object]] = {}
        self.appended: list[tuple[dict[str, object], int, dict[str, object]]] = []

    def get(self, col: str, row: int) -> str | None:
        if row >= self.fc.n:
            return self.appended[row - self.fc.n][0].get(col)  # type: ignore[return-value]
        if row in self.sets.get(col, {}):
            return self.sets[col][row]  # type: ignore[return-value]
        return self.fc.cols[col][row].as_py()

    def set(self, col: str, row: int, value: object) -> None:
        if row >= self.fc.n:
            self.appended[row - self.fc.n][0][col] = value
        else:
            self.sets.setdefault(col, {})[row] = value

    def row(self, row: int) -> dict[str, object]:
        return {c: self.get(c, row) for c in self.fc.cols}

    def append(self, values: dict[str, object], pidx: int, aux: dict[str, object] | None = None) -> int:
        self.appended.append((values, pidx, aux or {}))
        return self.fc.n + len(self.appended) - 1

    def apply(self) -> FeedChunk:
        cols = dict(self.fc.cols)
        for c, changes in self.sets.items():
            rows = np.array(sorted(changes))
            mask = np.zeros(self.fc.n, dtype=bool)
            mask[rows] = True
            cols[c] = pc.replace_with_mask(cols[c], pa.array(mask), pa.array([changes[r] for r in rows], pa.string()))
        pidx = self.fc.pidx
        aux = dict(self.fc.aux)
        if self.appended:
            for c in cols:
                cols[c] = pa.concat_arrays([cols[c].cast(pa.string()),
                                            pa.array([a[0].get(c) for a in self.appended], pa.string())])
            pidx = np.concatenate([pidx, [a[1] for a in self.appended]])
            for k, v in aux.items():
                extra = [a[2].get(k, v[0] if len(v) else 0) for a in self.appended]
                aux[k] = np.concatenate([v, np.array(extra, dtype=v.dtype)])
        return FeedChunk(cols, pidx, aux)


def _id_variant(kind: str, true_id: str, rng: np.random.Generator) -> str | float:
    first17 = true_id[:17]
    if kind == "id_fullwidth":
        return true_id.translate(FULLWIDTH)
    if kind == "id_lowercase_x":
        return true_id.lower()
    if kind == "id_spaces":
        return [f" {true_id} ", f"{true_id[:6]} {true_id[6:14]} {true_id[14:]}", f"{true_id}  "][rng.integers(3)]
    if kind == "id_tab":
        return [f"{true_id}\t", f"\t{true_id}"][rng.integers(2)]
    if kind == "id_hyphen":
        return f"{true_id[:6]}-{true_id[6:14]}-{true_id[14:]}"
    if kind == "id_apostrophe":
        return "'" + true_id
    if kind == "id_quotes":
        return f'"{true_id}"'
    if kind == "id_legacy_15":
        return true_id[:6] + true_id[8:17]
    if kind == "id_checksum":
        return first17 + rng.choice([c for c in CHECK_CHARS if c != true_id[17]])
    if kind == "id_impossible_birth_date":
        bad = first17[:10] + ["0230", "0431", "1332", "0000", "0631"][rng.integers(5)] + first17[14:]
        return bad + check_char(bad)
    if kind == "id_future_birth_date":
        bad = first17[:6] + str(2031 + int(rng.integers(0, 60))) + first17[10:]
        return bad + check_char(bad)
    if kind == "id_unknown_region":
        bad = ids.unknown_region_code(rng) + first17[6:]
        return bad + check_char(bad)
    if kind == "id_excel_scientific":
        return f"{true_id[0]}.{true_id[1:15]}E+17"
    if kind == "id_excel_trailing_000":
        # Excel keeps 15 significant digits. When the zero-filled result happens to carry a valid check
        # character (about 1 in 11) no pipeline can tell it from a real ID; write Excel's other form then.
        lost = true_id[:15] + "000"
        return f"{true_id[0]}.{true_id[1:15]}E+17" if check_char(lost[:17]) == lost[17] else lost
    if kind == "id_missing":
        return ""
    raise KeyError(kind)


def _reformat_date(value: str, fmt_in: str, rng: np.random.Generator) -> str:
    d = dt.datetime.strptime(value, fmt_in).date()
    options = [d.strftime("%Y%m%d"), d.isoformat(), f"{d.year}/{d.month}/{d.day}", f"{d.year}年{d.month}月{d.day}日"]
    options = [o for o in options if o != value]
    return options[int(rng.integers(len(options)))]


def inject(feed: str, fc: FeedChunk, p: People, d: np.datetime64, date_fmt: str, rates: Mapping[str, float],
           rng: np.random.Generator, guarantee: bool, xlsx: bool = False) -> tuple[FeedChunk, Injected]:
    """Inject every applicable defect kind into `fc`; returns the edited chunk and what was injected."""
    ed = _Editor(fc)
    inj = Injected()
    n = fc.n
    used = np.zeros(n, dtype=bool)
    used[fc.pidx < 0] = True  # rows about organisations/foreigners stay clean
    cid_col = ID_COL[feed]
    if feed in ("tax", "property"):
        type_col = "id_type" if feed == "tax" else "owner_id_type"
        used |= ~np.asarray(pc.equal(fc.cols[type_col], "居民身份证").to_numpy(zero_copy_only=False))

    def true_cid(row: int, col: str = cid_col) -> str:
        if feed == "marriage" and col.startswith("wife"):
            return p.cid[int(fc.aux["wife"][row])].as_py()
        return p.cid[int(fc.pidx[row])].as_py()

    def pick(kind: str, cand: np.ndarray | None = None) -> np.ndarray:
        if feed not in KINDS[kind][1] or n == 0:
            return np.zeros(0, np.int64)
        if kind == "date_excel_serial" and not xlsx:
            return np.zeros(0, np.int64)
        if kind in ("row_wrong_field_count", "row_invalid_bytes") and xlsx:
            return np.zeros(0, np.int64)
        pool = np.flatnonzero(~used if cand is None else (~used & cand))
        k = int(rng.binomial(n, rates.get(kind, 0.0)))
        if guarantee and rates.get(kind, 0.0) > 0:
            k = max(k, 1)
        k = min(k, len(pool))
        if k == 0:
            return np.zeros(0, np.int64)
        rows = np.sort(rng.choice(pool, size=k, replace=False))
        used[rows] = True
        return rows

    dcol = DATE_COL[feed]
    has_date = np.asarray(pc.is_valid(fc.cols[dcol]).to_numpy(zero_copy_only=False))
    for r in pick("date_excel_serial", has_date):
        d0 = dt.datetime.strptime(ed.get(dcol, int(r)), date_fmt).date()
        ed.set(dcol, int(r), str((d0 - dt.date(1899, 12, 30)).days))
        inj.add(int(r), "date_excel_serial", dcol, true_cid(int(r)))
    # --- citizen-ID cell defects
    for kind in [k for k in KINDS if k.startswith("id_")]:
        cand = None
        if kind in ("id_lowercase_x", "id_legacy_15"):
            col_ids = fc.cols[cid_col]
            test = (pc.ends_with(col_ids, "X") if kind == "id_lowercase_x"
                    else pc.equal(pc.utf8_slice_codeunits(col_ids, 6, 8), "19"))
            cand = np.asarray(pc.fill_null(test, False).to_numpy(zero_copy_only=False))
        for r in pick(kind, cand):
            col = cid_col
            if feed == "marriage" and cand is None and rng.random() < 0.5:
                col = "wife_citizen_id"
            tid = true_cid(int(r), col)
            val = _id_variant(kind, tid, rng)
            ed.set(col, int(r), val)
            inj.add(int(r), kind, col, tid)
    name_cols = {"marriage": "husband_name", "property": "owner_name"}
    name_col = name_cols.get(feed, "name")
    # --- sex / birth date contradicting the ID
    if "sex" in fc.cols:
        for r in pick("sex_mismatch"):
            v = ed.get("sex", int(r))
            ed.set("sex", int(r), {"1": "2", "2": "1", "男": "女", "女": "男"}[v])
            inj.add(int(r), "sex_mismatch", "sex", true_cid(int(r)))
    if feed in KINDS["birth_date_mismatch"][1]:
        for r in pick("birth_date_mismatch"):
            b = dt.datetime.strptime(ed.get("birth_date", int(r)), date_fmt).date()
            ed.set("birth_date", int(r), (b + dt.timedelta(days=int(rng.integers(1, 400)))).strftime(date_fmt))
            inj.add(int(r), "birth_date_mismatch", "birth_date", true_cid(int(r)))
    # --- names
    nm = fc.cols[name_col]
    has_dot = np.asarray(pc.fill_null(pc.match_substring(nm, "·"), False).to_numpy(zero_copy_only=False))
    for r in pick("name_dot_variant", has_dot):
        ed.set(name_col, int(r), ed.get(name_col, int(r)).replace("·", [".", "•"][rng.integers(2)]))
        inj.add(int(r), "name_dot_variant", "name" if name_col == "owner_name" else name_col, true_cid(int(r)))
    plain = ~has_dot
    for r in pick("name_fullwidth_space", plain):
        v = ed.get(name_col, int(r))
        ed.set(name_col, int(r), v[0] + "\u3000" + v[1:])
        inj.add(int(r), "name_fullwidth_space", _canon_name(name_col), true_cid(int(r)))
    in_backbone = ~p.floating[np.maximum(fc.pidx, 0)]
    for r in pick("name_typo", plain & in_backbone):
        v = ed.get(name_col, int(r))
        c = names.TYPO_CHARS[int(rng.integers(len(names.TYPO_CHARS)))]
        ed.set(name_col, int(r), v[:-1] + (c if c != v[-1] else "瑾"))
        inj.add(int(r), "name_typo", _canon_name(name_col), true_cid(int(r)))
    trad_ok = plain & in_backbone
    for r in pick("name_traditional", trad_ok):
        v = ed.get(name_col, int(r))
        t = v.translate(names.TRADITIONAL)
        if t == v:
            t = v[:-1] + "瑋"
        ed.set(name_col, int(r), t)
        inj.add(int(r), "name_traditional", _canon_name(name_col), true_cid(int(r)))
    # --- dates
    if feed != "tax":
        for r in pick("date_mixed_format", has_date):
            ed.set(dcol, int(r), _reformat_date(ed.get(dcol, int(r)), date_fmt, rng))
            inj.add(int(r), "date_mixed_format", dcol, true_cid(int(r)))
    for r in pick("date_invalid", has_date):
        ed.set(dcol, int(r), INVALID_DATE[feed])
        inj.add(int(r), "date_invalid", dcol, true_cid(int(r)))
    # --- amounts
    if feed == "tax":
        amt = fc.aux["amount"]
        for r in pick("amount_thousands", amt >= 1000):
            ed.set("income_amount", int(r), f"{amt[r]:,.2f}")
            inj.add(int(r), "amount_thousands", "income_amount", true_cid(int(r)))
    acol = "income_amount" if feed == "tax" else "floor_area"
    for r in pick("amount_fullwidth"):
        ed.set(acol, int(r), ed.get(acol, int(r)).translate(FULLWIDTH).replace(".", "."))
        inj.add(int(r), "amount_fullwidth", acol, true_cid(int(r)))
    # --- code values
    vcol, vval = INVALID_VALUE[feed]
    for r in pick("value_invalid"):
        ed.set(vcol, int(r), vval)
        inj.add(int(r), "value_invalid", vcol, true_cid(int(r)))
    # --- malformed rows (serialisation-level)
    for r in pick("row_wrong_field_count"):
        inj.line_edits[int(r)] = "wrong_fields"
        inj.add(int(r), "row_wrong_field_count", None, true_cid(int(r)))
    for r in pick("row_invalid_bytes"):
        v = ed.get(name_col, int(r)) or ""
        ed.set(name_col, int(r), v[:1] + INVALID_BYTES_MARK + v[1:])
        inj.add(int(r), "row_invalid_bytes", None, true_cid(int(r)))
    for r in pick("row_invalid_json"):
        inj.line_edits[int(r)] = "bad_json"
        inj.add(int(r), "row_invalid_json", None, true_cid(int(r)))
    # --- feed-specific consistency defects
    _consistency(feed, fc, ed, inj, p, d, date_fmt, pick, rng, true_cid)
    # --- exact duplicates and key conflicts (appended copies of clean rows)
    for r in pick("duplicate_row"):
        new = ed.append(ed.row(int(r)), int(fc.pidx[r]), _aux_row(fc, int(r)))
        inj.add(new, "duplicate_row", None, true_cid(int(r)))
    ccol = CONFLICT_COL[feed]
    for r in pick("key_conflict"):
        values = ed.row(int(r))
        v = values[ccol] or ""
        values[ccol] = (str(int(v) + 12) if v.isdigit() else
                        money(np.array([float(v) + 100])).to_pylist()[0] if _is_num(v) else v + "(更正)")
        new = ed.append(values, int(fc.pidx[r]), _aux_row(fc, int(r)))
        inj.add(int(r), "key_conflict", ccol, true_cid(int(r)))
        inj.add(new, "key_conflict", ccol, true_cid(int(r)))
    return ed.apply(), inj


def _canon_name(col: str) -> str:
    return "owner_name" if col == "owner_name" else col


def _is_num(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def _aux_row(fc: FeedChunk, r: int) -> dict[str, object]:
    return {k: v[r] for k, v in fc.aux.items()}


def _consistency(feed: str, fc: FeedChunk, ed: _Editor, inj: Injected, p: People, d: np.datetime64,
                 date_fmt: str, pick: Pick, rng: np.random.Generator, true_cid: Callable[[int], str]) -> None:
    """Defects about people: two households, activity after death, marriages, shares."""
    dead = ~np.isnat(p.death) & (p.death < d - np.timedelta64(40, "D"))
    n = fc.n
    if feed == "hukou" and n > 1:
        normal = np.asarray(pc.equal(fc.cols["person_status"], "0").to_numpy(zero_copy_only=False))
        for r in pick("multiple_hukou", normal):
            values = ed.row(int(r))
            other = int(rng.integers(n))
            for c in ("household_no", "hukou_district_code", "hukou_address"):
                values[c] = fc.cols[c][other].as_py()
            values["relation_code"] = "99"
            new = ed.append(values, int(fc.pidx[r]))
            inj.add(new, "multiple_hukou", "household_no", true_cid(int(r)))
    if feed == "social_insurance":
        row_dead = dead[np.maximum(fc.pidx, 0)] & (fc.pidx >= 0)
        kind = fc.aux["kind"]
        for r in pick("benefit_after_death", row_dead & np.isin(kind, [110, 170])):
            ed.set("benefit_status", int(r), "1")
            ed.set("insured_status", int(r), "2")
            inj.add(int(r), "benefit_after_death", "benefit_status", true_cid(int(r)))
        for r in pick("activity_after_death", row_dead & ~np.isin(kind, [110, 170])):
            ed.set("insured_status", int(r), "1")
            ed.set("last_paid_month", int(r), str(d)[:4] + str(d)[5:7])
            inj.add(int(r), "activity_after_death", "last_paid_month", true_cid(int(r)))
    if feed in ("tax", "property"):
        rate_rows = pick("activity_after_death")  # only to draw a count; the rows stay clean
        used_rows = rate_rows
        cands = np.flatnonzero(dead & ~p.floating)
        for i in range(min(len(used_rows), len(cands))):
            who = int(rng.choice(cands))
            r0 = int(used_rows[i])
            values = ed.row(r0)
            values[ID_COL[feed]] = p.cid[who].as_py()
            values["name" if feed == "tax" else "owner_name"] = p.name[who].as_py()
            if feed == "tax":
                values["income_period"] = str(d.astype("datetime64[M]") - 1)[:7]
            else:
                values["registration_date"] = fmt(np.array([d - np.timedelta64(5, "D")]), date_fmt)[0].as_py()
                values["unit_no"] = values["unit_no"][:6] + "999" + values["unit_no"][9:]
                values["title_status"] = "现势"
                values["co_ownership"], values["share"] = "单独所有", None
            new = ed.append(values, who)
            inj.add(new, "activity_after_death", "income_period" if feed == "tax" else "registration_date",
                    p.cid[who].as_py())
    if feed == "marriage":
        _marriage_flags(fc, ed, inj, p, d, date_fmt, pick, rng)
    if feed == "property":
        mode = fc.cols["co_ownership"]
        by_share = np.asarray(pc.equal(mode, "按份共有").to_numpy(zero_copy_only=False))
        unit = fc.aux["unit"]
        for r in pick("shares_not_100", by_share):
            ed.set("share", int(r), ["45%", "0.45", "9/20"][rng.integers(3)])
            inj.add(int(r), "shares_not_100", "share", true_cid(int(r)))
            partner = np.flatnonzero((unit == unit[r]) & by_share)
            for q in partner[partner != r]:
                inj.add(int(q), "shares_not_100", "share", true_cid(int(q)))


def _marriage_flags(fc: FeedChunk, ed: _Editor, inj: Injected, p: People, d: np.datetime64, date_fmt: str,
                    pick: Pick, rng: np.random.Generator) -> None:
    alive = np.isnat(p.death) & np.isnat(p.moveout) & (p.birth < d)
    age = age_at(p.birth, d)
    single_m = np.flatnonzero(alive & (p.marital == 0) & (p.sex == 1) & (age >= 23) & (age < 40))
    single_w = np.flatnonzero(alive & (p.marital == 0) & (p.sex == 2) & (age >= 21) & (age < 40))
    young_w = np.flatnonzero(alive & (p.marital == 0) & (p.sex == 2) & (age >= 18) & (age < 20))
    married_m = np.flatnonzero(alive & (p.marital == 1) & (p.sex == 1) & (p.spouse >= 0))
    reg = fmt(np.array([d - np.timedelta64(3, "D")]), date_fmt)[0].as_py()
    county = "330302"

    def add(kind: str, h: int, w: int, flagged: int) -> None:
        values = {
            "certificate_no": f"J{county}-{str(d)[:4]}-9{p.chunk:03d}{len(inj.rows):04d}",
            "registration_type": "结婚登记", "registration_date": reg,
            "husband_citizen_id": p.cid[h].as_py(), "husband_name": p.name[h].as_py(),
            "wife_citizen_id": p.cid[w].as_py(), "wife_name": p.name[w].as_py(),
            "registry_office": "温州市鹿城区民政局婚姻登记处", "office_district_code": county,
        }
        new = ed.append(values, h, {"wife": w})
        inj.add(new, kind, "wife_citizen_id" if flagged == w else "husband_citizen_id", p.cid[flagged].as_py())

    for kind, men, women in (("underage_marriage", single_m, young_w), ("bigamy", married_m, single_w),
                             ("same_sex_marriage_record", single_m, single_m)):
        k = len(pick(kind))
        if len(men) == 0 or len(women) < (2 if kind == "same_sex_marriage_record" else 1):
            continue
        for _ in range(k):
            h = int(rng.choice(men))
            w = int(rng.choice(women[women != h]))
            add(kind, h, w, w if kind != "bigamy" else h)
