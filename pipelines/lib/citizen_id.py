"""Citizen ID (公民身份号码, GB 11643-1999) in plain Python: check character, 15→18 upgrade.

This is the reference implementation used by the generator and as the oracle for the SQL macros
that do the same work set-based in DuckDB.
"""

from __future__ import annotations

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
