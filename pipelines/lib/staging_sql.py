"""SQL text for staging one feed, generated from the registry (splink style: small functions returning SQL).

One delivery is staged in two statements. `work_table_sql` writes the temp table `_stage_work` in one pass
over raw.<feed>:

    src      the delivery's raw rows (rowid kept to find the raw row again)
    norm     per column: normalised/typed value v<i>, empty flag e<i>, for ID numbers the citizen flag
    looked   LEFT JOINs: ref.regions per ID column, ref.code_lists per code column
    checked  per column: problem p<i> (a reason code or NULL)
    select   _outcome: the first problem in column order (its column _col_idx, the others in _extra)

`key_check_sql` then marks, among the rows that passed, exact duplicates ('DUPLICATE') and rows that share
a natural key but differ elsewhere ('KEY_CONFLICT'): an UPDATE of those few rows, so the wide work table
is written once (it used to be a materialised CTE copied into the table).

Columns are referred to by position (v1, p1, …) inside the chain and by their registry names, quoted, at
the edges. Values (delivery, dates, code-list names, labels) are bound parameters, never pasted in.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.feeds import Column, Feed, staging_id_column

SQL_TYPES: dict[str, str] = {
    "citizen_id": "VARCHAR", "id_number": "VARCHAR", "text": "VARCHAR", "name": "VARCHAR",
    "code": "VARCHAR", "sex": "VARCHAR", "date": "DATE", "year_month": "DATE", "integer": "BIGINT",
    "amount": "DECIMAL(18,2)", "share": "DOUBLE",
}
# Per type: how a field is prepared (one text column t<i>) and parsed from that (v<i>).
PREPARE: dict[str, str] = {
    "citizen_id": "pb_id_clean", "text": "pb_trim", "name": "pb_trim", "code": "pb_clean_text",
    "sex": "pb_clean_text", "date": "pb_clean_text", "year_month": "pb_clean_text",
    "integer": "pb_number_text", "amount": "pb_number_text", "share": "pb_number_text",
}
PARSERS: dict[str, str | None] = {
    "citizen_id": "pb_id_from_clean", "text": None, "name": None, "code": None, "sex": "pb_parse_sex_text",
    "date": "pb_parse_date_text", "year_month": "pb_parse_year_month_text",
    "integer": "pb_parse_integer_text", "amount": "pb_parse_amount_text", "share": "pb_parse_share_text",
}
EMPTY_REASON: dict[str, str] = {"date": "DATE_INVALID", "year_month": "DATE_INVALID"}
# A share is required when the feed's co-ownership column (code list `co_ownership`) says 按份共有.
SHARE_REQUIRED_WHEN = ("co_ownership", "按份共有")
_META = ("delivery_id", "delivery_date", "source_file", "source_row")


def q(identifier: str) -> str:
    """A quoted SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class Plan:
    """A feed's columns with their positions, and what the generated SQL needs to know about them."""

    feed: Feed

    @property
    def cols(self) -> list[tuple[int, Column]]:
        return list(enumerate(self.feed.columns, start=1))

    def idx(self, name: str) -> int:
        return self.feed.column_names.index(name) + 1

    @property
    def key_idx(self) -> list[int]:
        return [self.idx(k) for k in self.feed.natural_key]

    def share_condition_idx(self) -> int | None:
        for i, c in self.cols:
            if c.type == "code" and c.codes == SHARE_REQUIRED_WHEN[0]:
                return i
        return None


def staging_columns(feed: Feed) -> list[tuple[str, str]]:
    """(name, SQL type) of staging.stg_<feed>, in order."""
    out = [("delivery_id", "VARCHAR"), ("delivery_date", "DATE"), ("source_file", "VARCHAR"),
           ("source_row", "BIGINT")]
    for c in feed.columns:
        out.append((c.name, SQL_TYPES[c.type]))
        if c.type == "id_number":
            out.append((staging_id_column(c), "VARCHAR"))
    return out


def staging_table(feed: Feed) -> str:
    """Qualified name of the feed's staging table, `staging."stg_<feed>"`."""
    return f"staging.{q('stg_' + feed.name)}"


def create_staging_table_sql(feed: Feed) -> str:
    cols = ",\n    ".join(
        f"{q(n)} {t}{' NOT NULL' if n in _META[:2] else ''}" for n, t in staging_columns(feed)
    )
    return f"CREATE SCHEMA IF NOT EXISTS staging;\nCREATE TABLE IF NOT EXISTS {staging_table(feed)} (\n    {cols}\n);"


def params(feed: Feed, citizen_id_types: tuple[str, ...]) -> dict[str, object]:
    """The feed-level parameters of the generated statements (per delivery ones are added by the caller)."""
    p = Plan(feed)
    out: dict[str, object] = {"feed": feed.name, "citizen_types": list(citizen_id_types),
                              "share_required_code": SHARE_REQUIRED_WHEN[1]}
    for i, c in p.cols:
        out[f"lab_{i}"] = f"{c.zh} ({c.name})"
        if c.codes:
            out[f"list_{i}"] = c.codes
    key_cols = [feed.column(k) for k in feed.natural_key]
    out["key_zh"] = "、".join(c.zh for c in key_cols)
    out["key_en"] = ", ".join(c.name for c in key_cols)
    return out


def _src_cte(p: Plan) -> str:
    cols = ", ".join(f"r.{q(c.name)}" for _, c in p.cols)
    return ("src AS NOT MATERIALIZED (\n"
            f"    SELECT r.rowid AS _rid, r.source_file AS _file, r.source_row AS _row, {cols}\n"
            f"    FROM raw.{q(p.feed.name)} AS r\n    WHERE r.delivery_id = $delivery_id\n)")


def _prep_exprs(p: Plan, i: int, c: Column) -> list[str]:
    x = f"s.{q(c.name)}"
    if c.type == "id_number":
        type_col = q(p.feed.id_type_column or "")
        return [
            f"coalesce(list_contains($citizen_types, pb_clean_text(s.{type_col})), false) AS cit{i}",
            f"CASE WHEN cit{i} THEN pb_id_clean({x}) ELSE pb_trim({x}) END AS t{i}",
        ]
    return [f"{PREPARE[c.type]}({x}) AS t{i}"]


def _norm_exprs(i: int, c: Column) -> list[str]:
    if c.type == "id_number":
        return [f"CASE WHEN cit{i} THEN pb_id_from_clean(t{i}) ELSE t{i} END AS v{i}",
                f"CASE WHEN cit{i} THEN v{i} END AS cid{i}"]
    parser = PARSERS[c.type]
    return [f"{parser}(t{i}) AS v{i}" if parser else f"t{i} AS v{i}"]


def _prep_cte(p: Plan) -> str:
    body = ",\n        ".join(e for i, c in p.cols for e in _prep_exprs(p, i, c))
    return f"prep AS NOT MATERIALIZED (\n    SELECT s._rid, s._file, s._row,\n        {body}\n    FROM src AS s\n)"


def _norm_cte(p: Plan) -> str:
    body = ",\n        ".join(e for i, c in p.cols for e in _norm_exprs(i, c))
    return f"norm AS NOT MATERIALIZED (\n    SELECT *,\n        {body}\n    FROM prep\n)"


def _id_ctes(p: Plan) -> str:
    """Expensive parts of the ID checks as columns, one step each (DuckDB does not share
    subexpressions inside CASE branches): shape, then first-17 number and birth date."""
    ids = [i for i, c in p.cols if c.type in ("citizen_id", "id_number")]
    shape = ", ".join(f"coalesce(pb_id_is_well_formed(v{i}), false) AS wf{i}" for i in ids)
    parts = ", ".join(
        f"CASE WHEN wf{i} THEN pb_id_first17(v{i}) END AS n{i}, "
        f"CASE WHEN wf{i} THEN pb_id_birth_date(v{i}) END AS bd{i}" for i in ids
    )
    return (f"ids1 AS NOT MATERIALIZED (\n    SELECT *, {shape}\n    FROM norm\n),\n"
            f"ids2 AS NOT MATERIALIZED (\n    SELECT *, {parts}\n    FROM ids1\n)")


def _looked_cte(p: Plan) -> str:
    selects, joins = ["n.*"], []
    for i, c in p.cols:
        if c.type == "citizen_id":
            joins.append(f"LEFT JOIN ref.regions AS g{i} ON g{i}.code = n.v{i}[1:6]")
        elif c.type == "id_number":
            joins.append(f"LEFT JOIN ref.regions AS g{i} ON g{i}.code = CASE WHEN n.cit{i} THEN n.v{i}[1:6] END")
        elif c.type == "code":
            joins.append(f"LEFT JOIN ref.code_lists AS k{i} ON k{i}.list_name = $list_{i} AND k{i}.code = n.v{i}")
            selects.append(f"k{i}.code IS NOT NULL AS ok{i}")
            continue
        else:
            continue
        selects += [f"g{i}.code IS NOT NULL AS rk{i}", f"g{i}.last_year AS rl{i}"]
    return ("looked AS NOT MATERIALIZED (\n    SELECT " + ", ".join(selects) + "\n    FROM ids2 AS n\n    "
            + "\n    ".join(joins) + "\n)")


def _problem(p: Plan, i: int, c: Column) -> str | None:
    """SQL for column i's problem (a reason code or NULL), or None when the column cannot fail."""
    req = c.required
    check = f"pb_id_problem_parts(v{i}, wf{i}, pb_id_check_char_n(n{i}), bd{i}, $ref_date, rk{i}, rl{i})"
    if c.type == "citizen_id":
        return check if req else f"CASE WHEN v{i} IS NOT NULL THEN {check} END"
    if c.type == "id_number":
        empty = "'ID_MISSING'" if req else "NULL"
        return (f"CASE WHEN cit{i} THEN {check} "
                f"WHEN v{i} IS NULL THEN {empty} END")
    if c.type in ("text", "name"):
        return f"CASE WHEN v{i} IS NULL THEN 'VALUE_INVALID' END" if req else None
    if c.type == "code":
        empty = "'VALUE_INVALID'" if req else "NULL"
        return f"CASE WHEN v{i} IS NULL THEN {empty} WHEN NOT ok{i} THEN 'VALUE_INVALID' END"
    reason = EMPTY_REASON.get(c.type, "VALUE_INVALID")
    if c.type == "share" and not req and (j := p.share_condition_idx()) is not None:
        empty = f"CASE WHEN v{j} = $share_required_code THEN '{reason}' END"
    else:
        empty = f"'{reason}'" if req else "NULL"
    return f"CASE WHEN t{i} IS NULL THEN {empty} WHEN v{i} IS NULL THEN '{reason}' END"


def _checked_cte(p: Plan) -> str:
    exprs = [f"{_problem(p, i, c) or 'CAST(NULL AS VARCHAR)'} AS p{i}" for i, c in p.cols]
    return "checked AS NOT MATERIALIZED (\n    SELECT *,\n        " + ",\n        ".join(exprs) + "\n    FROM looked\n)"


def _outcome_select(p: Plan) -> str:
    """Every row of the chain with its first problem: _outcome (a reason code or NULL), _col_idx (the column
    it is in), _extra (the other columns with a problem)."""
    n = len(p.feed.columns)
    ps = ", ".join(f"p{i}" for i in range(1, n + 1))
    first = " ".join(f"WHEN p{i} IS NOT NULL THEN {i}" for i in range(1, n + 1))
    others = ", ".join(f"CASE WHEN p{i} IS NOT NULL AND _col_idx <> {i} THEN $lab_{i} END" for i in range(1, n + 1))
    return ("SELECT _rid, _file, _row, " + ", ".join(_value_names(p)) + ",\n"
            f"    coalesce({ps}) AS _outcome,\n"
            f"    CASE {first} END AS _col_idx,\n"
            f"    CASE WHEN _outcome IS NOT NULL THEN concat_ws(', ', {others}) END AS _extra\n"
            "FROM checked")


def _value_names(p: Plan) -> list[str]:
    """The chain's value columns in order: v<i>, and cid<i> after an ID number column."""
    return [n for i, c in p.cols for n in ([f"v{i}", f"cid{i}"] if c.type == "id_number" else [f"v{i}"])]


def _keyed_select(p: Plan) -> str:
    """One row per natural key held by more than one row of `_stage_work` that passed every column check:
    the row to keep (_keep), whether the rows differ in another column (_conflict) and which (_diff_*).

    The keys held more than once are found by grouping one hash of the key columns (a wide text key
    grouped over millions of rows cost more than the rest of the check); the few rows whose hash repeats
    are then grouped by the key itself, so a hash collision only adds candidates."""
    keys = p.key_idx
    others = [i for i, _ in p.cols if i not in keys]
    kcols = ", ".join(f"v{i}" for i in keys)
    fk = ", ".join(f"f.v{i}" for i in keys)
    diffs = ",\n        ".join(
        f"count(DISTINCT f.v{i}) + max(CASE WHEN f.v{i} IS NULL THEN 1 ELSE 0 END) > 1 AS d{i}" for i in others
    )
    any_diff = " OR ".join(f"d{i}" for i in others) or "false"
    first = " ".join(f"WHEN d{i} THEN {i}" for i in others)
    names = ", ".join(f"CASE WHEN d{i} THEN $lab_{i} END" for i in others)
    return (
        f"WITH multi AS (\n    SELECT hash({kcols}) AS _key_hash FROM _stage_work WHERE _outcome IS NULL\n"
        "    GROUP BY _key_hash HAVING count(*) > 1\n),\n"
        f"kinfo AS (\n    SELECT {fk}, min(f._rid) AS _keep,\n        {diffs}\n"
        f"    FROM _stage_work AS f\n"
        f"    WHERE f._outcome IS NULL AND hash({fk}) IN (SELECT _key_hash FROM multi)\n"
        f"    GROUP BY {fk} HAVING count(*) > 1\n)\n"
        f"SELECT {kcols}, _keep, ({any_diff}) AS _conflict,\n"
        f"    CASE {first or 'WHEN false THEN 0'} END AS _diff_idx,\n"
        f"    concat_ws(', ', {names or 'NULL'}) AS _diff_cols\n"
        "FROM kinfo"
    )


def work_table_sql(feed: Feed) -> str:
    """CREATE the temp table `_stage_work`: one row per raw row of the delivery with typed values and
    the outcome of the column checks (NULL = passed, or a reason code); key_check_sql completes it."""
    p = Plan(feed)
    ctes = [_src_cte(p), _prep_cte(p), _norm_cte(p), _id_ctes(p), _looked_cte(p), _checked_cte(p)]
    return "CREATE OR REPLACE TEMP TABLE _stage_work AS\nWITH " + ",\n".join(ctes) + "\n" + _outcome_select(p)


def key_check_sql(feed: Feed) -> str:
    """UPDATE of `_stage_work`, the natural-key check among the rows that passed: of rows equal in every
    column the first stays and the others are 'DUPLICATE'; rows sharing a key but differing elsewhere are
    all 'KEY_CONFLICT' (_col_idx/_extra: the first and all columns that differ). Touches only those rows,
    so the work table is written once."""
    p = Plan(feed)
    on = " AND ".join(f"w.v{i} IS NOT DISTINCT FROM k.v{i}" for i in p.key_idx)
    return (
        "UPDATE _stage_work AS w SET\n"
        "    _outcome = CASE WHEN k._conflict THEN 'KEY_CONFLICT' ELSE 'DUPLICATE' END,\n"
        "    _col_idx = CASE WHEN k._conflict THEN k._diff_idx ELSE w._col_idx END,\n"
        "    _extra = CASE WHEN k._conflict THEN k._diff_cols ELSE w._extra END\n"
        f"FROM (\n{_keyed_select(p)}\n) AS k\n"
        f"WHERE w._outcome IS NULL AND {on} AND (k._conflict OR w._rid <> k._keep)"
    )


def insert_staging_sql(feed: Feed) -> str:
    """Staged rows of `_stage_work` into staging.stg_<feed>."""
    p = Plan(feed)
    values = []
    for i, c in p.cols:
        values.append(f"v{i} AS {q(c.name)}")
        if c.type == "id_number":
            values.append(f"cid{i} AS {q(staging_id_column(c))}")
    return (f"INSERT INTO {staging_table(feed)} BY NAME\n"
            "SELECT $delivery_id AS delivery_id, $delivery_date AS delivery_date, _file AS source_file,\n"
            "    _row AS source_row, " + ", ".join(values) + "\nFROM _stage_work WHERE _outcome IS NULL")


def insert_quarantine_sql(feed: Feed) -> str:
    """Quarantined rows of `_stage_work` into ops.quarantine, with the raw row as JSON {header: value}."""
    p = Plan(feed)
    raw_list = "[" + ", ".join(f"r.{q(c.name)}" for _, c in p.cols) + "]"
    id_list = "[" + ", ".join(
        f"w.v{i}" if c.type in ("citizen_id", "id_number") else "CAST(NULL AS VARCHAR)" for i, c in p.cols
    ) + "]"
    record = ", ".join(f"{q(c.header)} := r.{q(c.name)}" for _, c in p.cols)
    return (
        "INSERT INTO ops.quarantine BY NAME\n"
        "SELECT $delivery_id AS delivery_id, $feed AS feed, $delivery_date AS delivery_date,\n"
        "    w._file AS source_file, w._row AS source_row, w._outcome AS reason_code,\n"
        "    c.column_name AS column_name,\n"
        f"    {raw_list}[w._col_idx] AS offending_value,\n"
        "    pb_detail(w._outcome,\n"
        "        CASE WHEN w._outcome = 'KEY_CONFLICT' THEN $key_zh ELSE c.zh END,\n"
        "        CASE WHEN w._outcome = 'KEY_CONFLICT' THEN $key_en ELSE c.en END,\n"
        f"        c.col_type, c.list_name, pb_trim({raw_list}[w._col_idx]) IS NULL,\n"
        f"        {id_list}[w._col_idx], $ref_date, g.last_year, coalesce(w._extra, '')) AS detail,\n"
        f"    CAST(to_json(struct_pack({record})) AS VARCHAR) AS raw_record\n"
        "FROM _stage_work AS w\n"
        f"JOIN raw.{q(feed.name)} AS r ON r.rowid = w._rid AND r.delivery_id = $delivery_id\n"
        "LEFT JOIN _stage_cols AS c ON c.idx = w._col_idx\n"
        f"LEFT JOIN ref.regions AS g ON w._outcome = 'ID_REGION' AND g.code = ({id_list}[w._col_idx])[1:6]\n"
        "WHERE w._outcome IS NOT NULL AND w._outcome <> 'DUPLICATE'"
    )


def column_rows(feed: Feed) -> list[tuple[int, str, str, str, str, str | None]]:
    """Rows of the temp table `_stage_cols(idx, column_name, zh, en, col_type, list_name)`."""
    return [(i, c.name, c.zh, c.en, c.type, c.codes) for i, c in Plan(feed).cols]
