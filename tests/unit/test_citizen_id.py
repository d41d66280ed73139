"""Citizen ID normalisation/validation: the Python reference against python-stdnum's cn.ric, and the
SQL macros (assets/macros/20_citizen_id.sql) against the Python reference, on the same generated inputs."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from pipelines.lib.citizen_id import check_char, normalize, upgrade_15, validate
from pipelines.lib.reference import region_last_years
from pipelines.lib.staging import install_macros
from pipelines.lib.staging_sql import PARSERS, PREPARE

REF = dt.date(2025, 6, 30)
REGIONS = region_last_years()
CODES = sorted(REGIONS)
FULL_WIDTH = str.maketrans({str(i): chr(0xFF10 + i) for i in range(10)} | {"X": "Ｘ"})


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    install_macros(c)
    return c


# --- generators ---------------------------------------------------------------------------------------

@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    code = draw(st.sampled_from(CODES))
    last = REGIONS[code]
    born = draw(st.dates(dt.date(1900, 1, 1), REF if last is None else min(REF, dt.date(last, 12, 31))))
    seq = draw(st.integers(0, 999))
    first17 = f"{code}{born:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)


random18 = st.text(alphabet="0123456789X", min_size=18, max_size=18)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    base = draw(valid_ids())
    kind = draw(st.sampled_from([
        "digit", "check", "full_width", "lower_x", "spaces", "hyphen", "quotes", "apostrophe", "legacy15",
        "legacy15_bad", "excel_000", "excel_sci", "short", "future", "feb30",
    ]))
    if kind == "digit":
        pos = draw(st.integers(0, 16))
        new = draw(st.sampled_from([d for d in "0123456789" if d != base[pos]]))
        return base[:pos] + new + base[pos + 1:]
    if kind == "check":
        return base[:17] + draw(st.sampled_from([c for c in "0123456789X" if c != base[17]]))
    if kind == "full_width":
        return base.translate(FULL_WIDTH)
    if kind == "lower_x":
        return base[:17] + "x"
    if kind == "spaces":
        return f" {base[:6]}\t{base[6:14]}\u3000{base[14:]} "
    if kind == "hyphen":
        return f"{base[:6]}-{base[6:14]}-{base[14:]}"
    if kind == "quotes":
        return draw(st.sampled_from(['"{}"', "“{}”", "‘{}’", "'{}'"])).format(base)
    if kind == "apostrophe":
        return "'" + base
    if kind == "legacy15":
        return base[:6] + base[8:17]
    if kind == "legacy15_bad":
        return base[:6] + base[8:16] + "A"
    if kind == "excel_000":
        return base[:15] + "000"
    if kind == "excel_sci":
        return f"{int(base[:17]) * 10:.14E}".replace("E+", draw(st.sampled_from(["E+", "e+", "E"])))
    if kind == "short":
        return base[: draw(st.integers(0, 17))]
    if kind == "future":
        first17 = base[:6] + "2031" + base[10:17]
        return first17 + check_char(first17)
    first17 = base[:6] + "19990230" + base[14:17]
    return first17 + check_char(first17)


candidates = st.one_of(valid_ids(), random18, mutated())


# --- the oracle -----------------------------------------------------------------------------------------

def _stdnum_error(number: str) -> type[Exception] | None:
    try:
        ric.validate(number)
    except (InvalidLength, InvalidFormat, InvalidChecksum, InvalidComponent) as exc:
        return type(exc)
    except KeyError:
        # stdnum's own bug: an address code listed without a county (e.g. 454688) raises KeyError('county')
        # from get_birth_place instead of InvalidComponent; it is an unknown region all the same.
        return InvalidComponent
    return None


def _stdnum_region_ok_ignoring_start(number: str) -> bool:
    """stdnum's region rule without 'the code did not exist yet at birth' (our documented difference)."""
    info = {k: v for _, props in numdb.get("cn/loc").info(number[:6]) for k, v in props.items()}
    if "county" not in info:
        return False
    year = int(number[6:10])
    for county in info["county"].split(","):
        if not county.startswith("["):
            return True
        end = county[1:].split("]")[0].split("-")[1]
        if not end or year <= int(end):
            return True
    return False


COMPATIBLE = {
    InvalidLength: {"ID_MALFORMED", "ID_PRECISION_LOST", "ID_MISSING"},
    InvalidFormat: {"ID_MALFORMED", "ID_PRECISION_LOST"},
    InvalidChecksum: {"ID_CHECKSUM", "ID_PRECISION_LOST", "ID_MALFORMED"},
    InvalidComponent: {"ID_BIRTH_DATE", "ID_REGION"},
}


def assert_agrees_with_stdnum(raw: str) -> None:
    norm = normalize(raw)
    ours = validate(norm, reference_date=REF)
    if norm is None:
        assert ours == "ID_MISSING"
        return
    theirs = _stdnum_error(norm)
    if ours is None:
        if theirs is not None:
            # The one accepted difference: stdnum rejects a code that did not exist yet in the birth year.
            assert theirs is InvalidComponent and ric.get_birth_date(norm)
            assert _stdnum_region_ok_ignoring_start(norm)
        return
    if theirs is None:
        # stdnum does not check the reference date or the year 1900.
        assert ours == "ID_BIRTH_DATE"
        born = ric.get_birth_date(norm)
        assert born > REF or born.year < 1900
        return
    assert ours in COMPATIBLE[theirs], (ours, theirs)
    if ours == "ID_MALFORMED" and theirs is InvalidChecksum:
        assert norm[17] not in "0123456789X"
    if ours == "ID_REGION":
        assert not _stdnum_region_ok_ignoring_start(norm)


# --- Python reference vs stdnum -------------------------------------------------------------------------

@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(candidates)
@example(raw="454688399208288462")  # an address code stdnum lists without a county
def test_python_reference_agrees_with_stdnum(raw: str) -> None:
    assert_agrees_with_stdnum(raw)


@given(valid_ids())
def test_valid_ids_are_accepted_and_unchanged(id18: str) -> None:
    assert normalize(id18) == id18
    assert validate(id18, reference_date=REF) is None


@pytest.mark.parametrize(
    ("raw", "norm", "reason"),
    [
        ("330302199001011235", "330302199001011235", None),
        ("３３０３０２１９９００１０１１２３５", "330302199001011235", None),
        ("33030219900101123x", "33030219900101123X", "ID_CHECKSUM"),
        (" 330302 19900101 1235\t", "330302199001011235", None),
        ("330302-19900101-1235", "330302199001011235", None),
        ("'330302199001011235", "330302199001011235", None),
        ("“330302199001011235”", "330302199001011235", None),
        ("330302900101123", upgrade_15("330302900101123"), None),
        ("3.30302199001011E+17", "3.30302199001011E+17", "ID_PRECISION_LOST"),
        ("330302199001011000", "330302199001011000", "ID_PRECISION_LOST"),
        ("", None, "ID_MISSING"),
        ("\u3000", None, "ID_MISSING"),
        ("33030219900101123", "33030219900101123", "ID_MALFORMED"),
        ("330302199001011234", "330302199001011234", "ID_CHECKSUM"),
        ("99999919900101123" + check_char("99999919900101123"), None, "ID_REGION"),
        ("33030219990230123" + check_char("33030219990230123"), None, "ID_BIRTH_DATE"),
        ("33030218991231123" + check_char("33030218991231123"), None, "ID_BIRTH_DATE"),
        ("33030220300101123" + check_char("33030220300101123"), None, "ID_BIRTH_DATE"),
        # retired Wenzhou codes: fine up to their last year, rejected for births after it
        ("33032220140101123" + check_char("33032220140101123"), None, None),
        ("33032220200101123" + check_char("33032220200101123"), None, "ID_REGION"),
        ("33032119800101123" + check_char("33032119800101123"), None, None),
        ("33032119950101123" + check_char("33032119950101123"), None, "ID_REGION"),
        # a code newer than the birth year is accepted (龙港市 from 2019, born 1970)
        ("33038319700101123" + check_char("33038319700101123"), None, None),
    ],
)
def test_examples(raw: str, norm: str | None, reason: str | None) -> None:
    got = normalize(raw)
    if norm is not None or reason == "ID_MISSING":
        assert got == norm
    assert validate(got, reference_date=REF) == reason


def test_wenzhou_codes_in_regions() -> None:
    for code in ("330302", "330303", "330304", "330305", "330324", "330326", "330327", "330328", "330329",
                 "330381", "330382", "330383"):
        assert code in REGIONS and REGIONS[code] is None
    for code, last in {"330322": 2014, "330321": 1991, "330323": 1992, "330325": 1986}.items():
        assert REGIONS[code] is not None and REGIONS[code] >= last


# --- SQL macros vs the Python reference -----------------------------------------------------------------

# The steps of the generated staging SQL for a citizen ID (staging_sql: PREPARE, PARSERS, _id_ctes, _problem).
SQL_BATCH = f"""
WITH b AS (SELECT unnest($batch) AS raw, generate_subscripts($batch, 1) AS i),
n AS (SELECT i, {PARSERS["citizen_id"]}({PREPARE["citizen_id"]}(raw)) AS norm FROM b),
shape AS (SELECT *, coalesce(pb_id_is_well_formed(norm), false) AS wf FROM n),
parts AS (SELECT *, CASE WHEN wf THEN pb_id_first17(norm) END AS n17,
                    CASE WHEN wf THEN pb_id_birth_date(norm) END AS born FROM shape)
SELECT p.i, p.norm,
       pb_id_problem_parts(p.norm, p.wf, pb_id_check_char_n(p.n17), p.born, $ref, g.code IS NOT NULL, g.last_year)
           AS reason
FROM parts AS p LEFT JOIN ref.regions AS g ON g.code = p.norm[1:6]
ORDER BY p.i
"""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(candidates, min_size=50, max_size=200))
def test_sql_macros_agree_with_python(con: duckdb.DuckDBPyConnection, batch: list[str]) -> None:
    rows = con.execute(SQL_BATCH, {"batch": batch, "ref": REF}).fetchall()
    assert len(rows) == len(batch)
    for raw, (_, norm, reason) in zip(batch, rows, strict=True):
        expected_norm = normalize(raw)
        assert norm == expected_norm, "normalisation differs"
        assert reason == validate(expected_norm, reference_date=REF), "reason differs"


def test_sql_check_char_matches_python(con: duckdb.DuckDBPyConnection) -> None:
    first17s = [f"{n:017d}" for n in range(0, 10**17, 10**17 // 997)]
    got = con.execute(
        "SELECT list(pb_id_check_char(x) ORDER BY i) FROM "
        "(SELECT unnest($xs) AS x, generate_subscripts($xs, 1) AS i)", {"xs": first17s},
    ).fetchone()
    assert got is not None and got[0] == [check_char(x) for x in first17s]
