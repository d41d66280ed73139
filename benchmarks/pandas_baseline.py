"""The naive baseline: the core of the population base computed with pandas merges, for the benchmark.

    .venv/bin/python benchmarks/pandas_baseline.py --landing var/bench/gen_p1000000_m2_s1 --date 20260831 \
        --out var/bench/baseline_persons.parquet [--json var/bench/baseline.json]

Reads each feed's delivery of `--date` (hukou GB18030 CSV, residence permits BOM CSV, education CSV, social
insurance JSONL, tax CSV, marriage CSV, property parquet) entirely into memory, normalises and validates the
citizen IDs with vectorised pandas string ops (full-width digits, x -> X, spaces/hyphens/quotes stripped,
15 -> 18 digits, birth date and check character), aggregates per person per feed (education: highest
attainment code and in school; insurance: pension/medical flags, months paid, last month paid; tax: income of
the last 12 months; property: current units; marital status from the latest event), merges everything onto
the union of valid IDs and writes one parquet. No quarantine, no history, no checks, no publishing: this is
the "ingest + standardise + base" part of the pipeline only, done the obvious way.

Prints and (with --json) writes the time per phase; the caller measures peak RSS from outside.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
from phases import Phases, delivery_files

FULLWIDTH = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789xX")
WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK = np.array(list("10X98765432"))
ID_TYPE = "居民身份证"


def check_char(first17: pd.Series) -> pd.Series:
    """The ISO 7064 MOD 11-2 check character of 17-digit strings (all assumed to be 17 ASCII digits)."""
    if first17.empty:
        return pd.Series([], dtype=object, index=first17.index)
    buf = np.frombuffer("".join(first17.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
    return pd.Series(CHECK[(buf.astype(np.int64) @ WEIGHTS) % 11], index=first17.index)


def normalise_ids(raw: pd.Series) -> pd.Series:
    """Normalised 18-character citizen IDs; NaN where the value is not a valid citizen ID."""
    s = raw.astype("string").fillna("")
    s = s.str.translate(FULLWIDTH).str.replace(r"[\s\-'\"‘’“”`]", "", regex=True).str.upper()
    is15 = s.str.fullmatch(r"\d{15}")
    if is15.any():
        s15 = s[is15]
        first17 = s15.str[:6] + "19" + s15.str[6:]
        s = s.where(~is15, first17 + check_char(first17))
    shaped = s.str.fullmatch(r"\d{17}[\dX]").fillna(False).astype(bool)
    out = pd.Series(pd.NA, index=s.index, dtype="string")
    cand = s[shaped]
    ok = cand.str[17] == check_char(cand.str[:17])
    born = pd.to_datetime(cand.str[6:14], format="%Y%m%d", errors="coerce")
    ok &= born.notna() & (born.dt.year >= 1900)
    good = cand[ok]
    out.loc[good.index] = good
    return out


def read_csv(path: Path, encoding: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, encoding=encoding, encoding_errors="replace", on_bad_lines="skip",
                       keep_default_na=False)


def _jsonl_frame(lines: list[str]) -> pd.DataFrame:
    """pd.read_json(lines=True, dtype=str) on a block of lines; when one is malformed, the lines that parse."""
    try:
        return pd.read_json(io.StringIO("".join(lines)), lines=True, dtype=str)
    except ValueError:
        good = []
        for line in lines:
            try:
                if isinstance(json.loads(line), dict):
                    good.append(line)
            except ValueError:
                pass
        return pd.read_json(io.StringIO("".join(good)), lines=True, dtype=str)


def read_jsonl(path: Path, block: int = 200_000) -> pd.DataFrame:
    """A JSONL file read in blocks of lines (pd.read_json of the whole file at once needs ~25x its size)."""
    frames, lines = [], []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.strip():
                lines.append(line)
            if len(lines) >= block:
                frames.append(_jsonl_frame(lines))
                lines = []
    if lines:
        frames.append(_jsonl_frame(lines))
    return pd.concat(frames, ignore_index=True)


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def amount(s: pd.Series) -> pd.Series:
    t = s.astype("string").str.translate(FULLWIDTH).str.replace(r"[,，\s]", "", regex=True)
    return pd.to_numeric(t, errors="coerce")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--landing", type=Path, required=True)
    ap.add_argument("--date", required=True, help="delivery folder name, YYYYMMDD")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    L, D = args.landing, args.date
    ref = dt.datetime.strptime(D, "%Y%m%d")
    phases = Phases()
    lap = phases.lap

    # ---- read
    hukou = concat([read_csv(p, "gb18030") for p in delivery_files(L, "hukou", D, ".csv")])
    residence = concat([read_csv(p, "utf-8-sig") for p in delivery_files(L, "residence_permit", D, ".csv")])
    education = concat([read_csv(p, "utf-8") for p in delivery_files(L, "education", D, ".csv")])
    insurance = concat([read_jsonl(p) for p in delivery_files(L, "social_insurance", D, ".jsonl")])
    tax = concat([read_csv(p, "utf-8") for p in delivery_files(L, "tax", D, ".csv")])
    marriage = concat([read_csv(p, "utf-8") for p in delivery_files(L, "marriage", D, ".csv")])
    prop = concat([pd.read_parquet(p) for p in delivery_files(L, "property", D, ".parquet")])
    rows_in = sum(len(x) for x in (hukou, residence, education, insurance, tax, marriage, prop))
    lap("read")

    # ---- normalise and validate IDs
    hukou["citizen_id"] = normalise_ids(hukou["GMSFHM"])
    residence["citizen_id"] = normalise_ids(residence["公民身份号码"])
    education["citizen_id"] = normalise_ids(education["公民身份号码"])
    insurance["citizen_id"] = normalise_ids(insurance["aac002"])
    is_cid = tax["证件类型"].str.strip() == ID_TYPE
    tax["citizen_id"] = normalise_ids(tax["证件号码"].where(is_cid))
    marriage["husband_id"] = normalise_ids(marriage["男方公民身份号码"])
    marriage["wife_id"] = normalise_ids(marriage["女方公民身份号码"])
    is_cid = prop["权利人证件类型"].str.strip() == ID_TYPE
    prop["citizen_id"] = normalise_ids(prop["权利人证件号码"].where(is_cid))
    lap("normalise_ids")

    # ---- per person per feed
    hk = hukou.dropna(subset=["citizen_id"]).drop_duplicates("citizen_id", keep="last")
    hk = hk.assign(
        name=hk["XM"].str.strip(), sex=hk["XBDM"].map({"1": "男", "2": "女"}).fillna(hk["XBDM"]),
        birth_date=pd.to_datetime(hk["CSRQ"], format="%Y%m%d", errors="coerce"),
        hukou_district_code=hk["HJDZ_XZQHDM"], household_no=hk["HH"], in_hukou=hk["RYZT"] == "0",
        is_deceased=hk["RYZT"] == "1",
    )[["citizen_id", "name", "sex", "birth_date", "hukou_district_code", "household_no", "in_hukou", "is_deceased"]]

    rp = residence.dropna(subset=["citizen_id"]).drop_duplicates("citizen_id", keep="last")
    rp = rp.assign(residence_district_code=rp["居住地区划代码"], has_residence_registration=True,
                   residence_name=rp["姓名"].str.strip())[
        ["citizen_id", "residence_district_code", "has_residence_registration", "residence_name"]]

    ed = education.dropna(subset=["citizen_id"]).drop_duplicates("学籍号", keep="last")
    graduated = ed[ed["学籍状态"] == "毕业"]
    ed_agg = pd.DataFrame({
        "highest_education_code": graduated.replace({"学历代码": {"": np.nan}}).groupby("citizen_id")["学历代码"].min(),
        "in_school": (ed["学籍状态"] == "在读").groupby(ed["citizen_id"]).any(),
        "is_migrant_child": ((ed["学籍状态"] == "在读") & (ed["随迁子女"] == "是")).groupby(ed["citizen_id"]).any(),
    }).rename_axis("citizen_id").reset_index()

    ins = insurance.dropna(subset=["citizen_id"]).drop_duplicates(["citizen_id", "aae140"], keep="last")
    active = ins["aac008"] == "1"
    pension = ins["aae140"].isin(["110", "120", "170"])
    last_paid = pd.to_datetime(ins["aae041"].str.replace("-", "", regex=False), format="%Y%m", errors="coerce")
    recent = ref - pd.DateOffset(months=6)
    g = ins["citizen_id"]
    ins_agg = pd.DataFrame({
        "pension_insured": (pension & active).groupby(g).any(),
        "medical_insured": (ins["aae140"].isin(["310", "390"]) & active).groupby(g).any(),
        "insured_months": pd.to_numeric(ins["aae202"], errors="coerce").groupby(g).max(),
        "receiving_pension": (pension & (ins["aae116"] == "1")).groupby(g).any(),
        "last_paid_month": last_paid.groupby(g).max(),
        "contributing_recently": (active & (last_paid > recent)).groupby(g).any(),
    }).rename_axis("citizen_id").reset_index()

    tx = tax.dropna(subset=["citizen_id"]).drop_duplicates(
        ["citizen_id", "所得期间", "所得项目", "扣缴义务人统一社会信用代码"], keep="last")
    period = pd.to_datetime(tx["所得期间"].str.replace("-", "", regex=False), format="%Y%m", errors="coerce")
    in12 = period > (ref.replace(day=1) - pd.DateOffset(months=12))
    inc = amount(tx["收入额"])
    tax_agg = pd.DataFrame({
        "income_last_12m": inc.where(in12).groupby(tx["citizen_id"]).sum(min_count=1),
        "last_income_period": period.groupby(tx["citizen_id"]).max(),
    }).rename_axis("citizen_id").reset_index()

    pr = prop.dropna(subset=["citizen_id"])
    pr = pr[pr["权属状态"] == "现势"]
    prop_agg = pr.groupby("citizen_id")["不动产单元号"].nunique().rename("property_units").reset_index()

    m = marriage.drop_duplicates("登记证字号", keep="last")
    m = m.assign(date=pd.to_datetime(m["登记日期"], errors="coerce", format="mixed"))
    ev = pd.concat([
        m[["husband_id", "wife_id", "登记类型", "date"]].set_axis(["citizen_id", "partner", "type", "date"], axis=1),
        m[["wife_id", "husband_id", "登记类型", "date"]].set_axis(["citizen_id", "partner", "type", "date"], axis=1),
    ], ignore_index=True).dropna(subset=["citizen_id"])
    ev = ev.sort_values(["citizen_id", "date"], kind="stable")
    latest = ev.drop_duplicates("citizen_id", keep="last")
    n_mar = ev[ev["type"] == "结婚登记"].groupby("citizen_id").size()
    latest = latest.assign(marriages=latest["citizen_id"].map(n_mar).fillna(0))
    latest["marital_status"] = np.select(
        [latest["type"] == "结婚登记", latest["type"] == "离婚登记", latest["marriages"] > 1],
        ["已婚", "离婚", "离婚"], default="未婚")
    latest["spouse_citizen_id"] = latest["partner"].where(latest["type"] == "结婚登记")
    mar = latest.rename(columns={"date": "marital_status_since"})[
        ["citizen_id", "marital_status", "spouse_citizen_id", "marital_status_since"]]
    lap("aggregate")

    # ---- merge onto the union of IDs
    ids = pd.concat([hk["citizen_id"], rp["citizen_id"], ed_agg["citizen_id"], ins_agg["citizen_id"],
                     tax_agg["citizen_id"], prop_agg["citizen_id"], mar["citizen_id"]]).drop_duplicates()
    base = pd.DataFrame({"citizen_id": ids.to_numpy()})
    for part in (hk, rp, ed_agg, ins_agg, tax_agg, prop_agg, mar):
        base = base.merge(part, on="citizen_id", how="left")
    base["name"] = base["name"].fillna(base["residence_name"])
    base = base.drop(columns=["residence_name"])
    base["in_hukou"] = base["in_hukou"].fillna(False).astype(bool)
    base["has_residence_registration"] = base["has_residence_registration"].fillna(False).astype(bool)
    base["property_units"] = base["property_units"].fillna(0).astype("int64")
    lap("merge")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    base.to_parquet(args.out, index=False)
    lap("write")
    res = {"phases": phases.seconds, "rows_in": rows_in, "persons_out": len(base),
           "in_hukou": int(base["in_hukou"].sum()), "out_mb": round(args.out.stat().st_size / 2**20, 1)}
    print(json.dumps(res), flush=True)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
