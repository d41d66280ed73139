"""Citizen ID (公民身份号码, GB 11643-1999) in plain Python: check character, 15→18 upgrade,
normalisation and validation.

This is the reference implementation used by the generator and as the oracle for the SQL macros
that do the same work set-based in DuckDB.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def upgrade_15(legacy: str) -> str:
    """A legacy 15-digit ID (GB 11643-1989) as its 18-character form: '19' inserted, check added."""
    if len(legacy) != 15 or not legacy.isdigit():
        raise ValueError("need exactly 15 digits")
    first17 = legacy[:6] + "19" + legacy[6:]
    return first17 + check_char(first17)


# --- normalisation and validation (reference for assets/macros/20_citizen_id.sql) ---------------------

_FOLD = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "Ｘ": "X", "ｘ": "X", "x": "X",
     **{c: None for c in " \t\r\n\u3000\u00a0-－"}}
)
_QUOTES = "'\"“”‘’"
_EXCEL_NUMBER = re.compile(r"[0-9](\.[0-9]+)?[Ee]\+?[0-9]+")
_WELL_FORMED = re.compile(r"[0-9]{17}[0-9X]")
_DIGITS15 = re.compile(r"[0-9]{15}")

REASON_ORDER = (
    "ID_MISSING", "ID_PRECISION_LOST", "ID_MALFORMED", "ID_CHECKSUM", "ID_BIRTH_DATE", "ID_REGION",
)


def normalize(raw: str | None) -> str | None:
    """The ID as it will be stored: width-folded, X upper-cased, blanks/hyphens removed, surrounding
    quotes and a leading apostrophe stripped, a legacy 15-digit ID upgraded; None when empty.

    A value that still is not an ID (e.g. an Excel number) is returned as cleaned, for `validate`.
    """
    if raw is None:
        return None
    cleaned = raw.translate(_FOLD).strip(_QUOTES)
    if not cleaned:
        return None
    if _DIGITS15.fullmatch(cleaned):
        return upgrade_15(cleaned)
    return cleaned


def birth_date(id18: str) -> dt.date | None:
    """The birth date inside a well-formed 18-character ID, or None when it is not a real date."""
    try:
        return dt.datetime.strptime(id18[6:14], "%Y%m%d").date()
    except ValueError:
        return None


def validate(
    id_norm: str | None,
    *,
    reference_date: dt.date | None = None,
    regions: Mapping[str, int | None] | None = None,
) -> str | None:
    """Why a normalised ID (`normalize`) is not acceptable, as a quarantine reason code, or None.

    The first that applies, in REASON_ORDER. `regions` maps address code -> last year in use (None =
    current); a code is rejected when unknown or retired before the birth year, never for being newer
    than the birth year (people born earlier were assigned it when registered later). Defaults: today,
    assets/reference/regions.csv.
    """
    if not id_norm:
        return "ID_MISSING"
    if _EXCEL_NUMBER.fullmatch(id_norm):
        return "ID_PRECISION_LOST"
    if not _WELL_FORMED.fullmatch(id_norm):
        return "ID_MALFORMED"
    if id_norm[17] != check_char(id_norm[:17]):
        return "ID_PRECISION_LOST" if id_norm.endswith("000") else "ID_CHECKSUM"
    born = birth_date(id_norm)
    if born is None or born > (reference_date or dt.date.today()) or born.year < 1900:
        return "ID_BIRTH_DATE"
    if regions is None:
        from pipelines.lib.reference import region_last_years

        regions = region_last_years()
    if id_norm[:6] not in regions:
        return "ID_REGION"
    last = regions[id_norm[:6]]
    if last is not None and born.year > last:
        return "ID_REGION"
    return None
