"""Identity numbers, vectorised: citizen IDs (GB 11643), address codes (GB/T 2260), USCC (GB 32100)."""

from __future__ import annotations

import os
import re
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import stdnum
from stdnum.cn import uscc

from pipelines.lib.citizen_id import CHECK_CHARS, WEIGHTS

_CHECK_ARRAY = pa.array(list(CHECK_CHARS))
_POW10 = 10 ** np.arange(16, -1, -1, dtype=np.int64)
_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)

# Wenzhou: current county codes and the census shares (2020, approx.) of the resident population.
WENZHOU_COUNTIES: dict[int, tuple[str, float]] = {
    330302: ("鹿城区", 0.118), 330303: ("龙湾区", 0.076), 330304: ("瓯海区", 0.100), 330305: ("洞头区", 0.015),
    330324: ("永嘉县", 0.090), 330326: ("平阳县", 0.089), 330327: ("苍南县", 0.087), 330328: ("文成县", 0.030),
    330329: ("泰顺县", 0.028), 330381: ("瑞安市", 0.158), 330382: ("乐清市", 0.146), 330383: ("龙港市", 0.063),
}
COUNTY_CODES = np.array(list(WENZHOU_COUNTIES), dtype=np.int32)
COUNTY_P = np.array([v[1] for v in WENZHOU_COUNTIES.values()])
COUNTY_P = COUNTY_P / COUNTY_P.sum()
# A current county code -> (retired code found in older IDs, the first birth year of the current code).
RETIRED_FOR: dict[int, tuple[int, int]] = {
    330381: (330325, 1987), 330382: (330323, 1993), 330305: (330322, 2015), 330304: (330321, 1992),
    330383: (330327, 2019),
}
# Provinces sending migrants to Wenzhou, with weights.
MIGRANT_PROVINCES = {"52": 0.2, "36": 0.14, "34": 0.12, "51": 0.1, "41": 0.1, "42": 0.08, "43": 0.08,
                     "50": 0.06, "45": 0.04, "35": 0.03, "33": 0.05}


def check_chars_from_first17(first17: np.ndarray) -> pa.Array:
    """ISO 7064 MOD 11-2 check characters for an int64 array of 17-digit numbers."""
    digits = (first17[:, None] // _POW10[None, :]) % 10
    idx = (digits * _WEIGHTS[None, :]).sum(axis=1) % 11
    return _CHECK_ARRAY.take(pa.array(idx))


def first17(addr: np.ndarray, birth: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """The first 17 digits as int64 from address code, birth date (datetime64[D]) and sequence."""
    ymd = birth.astype("datetime64[D]")
    y = ymd.astype("datetime64[Y]").astype(np.int64) + 1970
    m = ymd.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (ymd - ymd.astype("datetime64[M]")).astype(np.int64) + 1
    return ((addr.astype(np.int64) * 100000000 + y * 10000 + m * 100 + d) * 1000 + seq.astype(np.int64))


def build_ids(f17: np.ndarray) -> pa.Array:
    """18-character citizen IDs from the int64 first-17 numbers."""
    return pc.binary_join_element_wise(pa.array(f17).cast(pa.string()), check_chars_from_first17(f17), "")


@cache
def loc_codes() -> dict[str, tuple[int, int]]:
    """County-level codes of stdnum's cn/loc.dat with the (first, last) year they existed."""
    path = os.path.join(os.path.dirname(stdnum.__file__), "cn", "loc.dat")
    out: dict[str, tuple[int, int]] = {}
    prov = ""
    rng = re.compile(r"\[(\d*)-(\d*)\]")
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            if not line.startswith(" "):
                prov = line.split()[0]
                continue
            code = line.split()[0]
            spans = rng.findall(line)
            if spans:
                first = min(int(a) if a else 1900 for a, _ in spans)
                last = max(int(b) if b else 9999 for _, b in spans)
            else:
                first, last = 1900, 9999
            out[prov + code] = (first, last)
    return out


@cache
def migrant_code_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(codes, first_year, last_year, weight) of county-level codes outside Wenzhou for migrants."""
    rows = [(int(c), a, b, MIGRANT_PROVINCES[c[:2]]) for c, (a, b) in loc_codes().items()
            if c[:2] in MIGRANT_PROVINCES and not c.endswith("00") and not c.endswith("01")
            and not c.startswith("3303")]
    arr = np.array(rows, dtype=np.float64)
    counts = {}
    for r in rows:
        counts[str(r[0])[:2]] = counts.get(str(r[0])[:2], 0) + 1
    w = np.array([r[3] / counts[str(r[0])[:2]] for r in rows])
    return arr[:, 0].astype(np.int32), arr[:, 1].astype(np.int32), arr[:, 2].astype(np.int32), w / w.sum()


def migrant_codes(rng: np.random.Generator, birth_years: np.ndarray) -> np.ndarray:
    """Address codes outside Wenzhou that existed in each person's birth year (vectorised retry)."""
    codes, first, last, w = migrant_code_table()
    out = np.zeros(len(birth_years), dtype=np.int32)
    todo = np.arange(len(birth_years))
    for _ in range(30):
        if len(todo) == 0:
            break
        pick = rng.choice(len(codes), size=len(todo), p=w)
        ok = (first[pick] <= birth_years[todo]) & (last[pick] >= birth_years[todo])
        out[todo[ok]] = codes[pick[ok]]
        todo = todo[~ok]
    if len(todo):  # ancient birth years: any code that still exists
        always = np.flatnonzero(last >= 9999)
        out[todo] = codes[rng.choice(always, size=len(todo))]
    return out


def unknown_region_code(rng: np.random.Generator) -> str:
    """A 6-digit address code that is neither current nor retired."""
    known = loc_codes()
    while True:
        code = f"{rng.integers(11, 66)}{rng.integers(90, 100)}{rng.integers(80, 100)}"
        if code not in known:
            return code


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_uscc(rng: np.random.Generator, counties: np.ndarray) -> list[str]:
    """Unified social credit codes (18 chars, valid check char) for organisations in these counties."""
    out = []
    body = rng.integers(0, len(_USCC_ALPHABET), size=(len(counties), 9))
    for county, b in zip(counties.tolist(), body, strict=True):
        s = "91" + str(county) + "".join(_USCC_ALPHABET[i] for i in b)
        out.append(s + uscc.calc_check_digit(s))
    return out
