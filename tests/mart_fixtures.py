"""A small working file with the `marts` schema of docs/architecture.md, built set-based in SQL.

`build_marts(path, persons=40)` makes a few dozen people with valid citizen IDs (check character
computed in SQL), names, addresses, household numbers, a two-snapshot history, flags, quarantined rows
(whose raw records quote IDs and names) and deliveries. The same builder makes a city-sized file for
benchmarks (`persons=1_000_000`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

REFERENCE_DATE = dt.date(2024, 12, 31)
PREVIOUS_SNAPSHOT = dt.date(2024, 11, 30)

PERSONS_SQL = """
CREATE OR REPLACE TABLE marts.population_base AS
WITH counties AS (
    SELECT ['330302','330303','330304','330305','330324','330326','330327','330328','330329',
            '330381','330382','330383'] AS c
),
seeded AS (
    SELECT i,
           c[1 + i % 12]                                     AS hukou_county,
           c[1 + (i * 7 + 3) % 12]                           AS other_county,
           DATE '1932-03-01' + CAST((i * 7919 + (i // 1000) * 31) % 33000 AS INTEGER) AS birth_date,
           lpad(CAST(i % 1000 AS VARCHAR), 3, '0')           AS seq
    FROM range($persons) AS t(i), counties
),
with_id AS (
    SELECT *, hukou_county || strftime(birth_date, '%Y%m%d') || seq AS first17
    FROM seeded
    WHERE birth_date <= $reference_date
),
ids AS (
    SELECT *,
           first17 || substr('10X98765432', CAST(1 + list_sum(list_transform(range(17), lambda k:
               CAST(substr(first17, k + 1, 1) AS INTEGER)
               * [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2][k + 1])) % 11 AS BIGINT), 1)
               AS citizen_id,
           date_part('year', age($reference_date::TIMESTAMP, birth_date::TIMESTAMP))::INTEGER AS age_years,
           i % 17 = 0 AS dead
    FROM with_id
    QUALIFY row_number() OVER (PARTITION BY first17 ORDER BY i) = 1
),
people AS (
    SELECT *,
           NOT dead AND i % 5 <> 0                             AS hukou,
           NOT dead AND (i % 5 = 0 OR i % 11 = 0)              AS registered
    FROM ids
)
SELECT citizen_id,
       ['王','李','张','刘','陈','杨','黄','赵','吴','周'][1 + i % 10]
         || ['伟','芳','娜','秀英','敏','静','丽','强','磊','军','洋','勇','艳','杰','娟'][1 + (i // 10) % 15]
         || ['', '一', '宁', '晨'][1 + (i // 150) % 4]                              AS name,
       CASE WHEN CAST(right(seq, 1) AS INTEGER) % 2 = 1 THEN '男' ELSE '女' END   AS sex,
       birth_date,
       CASE WHEN i % 15 = 0 THEN '22' ELSE '01' END                                AS ethnicity_code,
       hukou                                                                        AS in_hukou,
       hukou_county                                                                 AS hukou_district_code,
       'H' || lpad(CAST(i // 3 AS VARCHAR), 9, '0')                                 AS household_no,
       '浙江省温州市' || hukou_county || '某街道' || CAST(i AS VARCHAR) || '号'     AS hukou_address,
       registered                                                                   AS has_residence_registration,
       registered AND i % 10 <> 5                                                   AS residence_registration_valid,
       CASE WHEN registered OR i % 4 = 0 THEN other_county
            WHEN i % 7 = 0 THEN NULL ELSE hukou_county END                         AS residence_district_code,
       dead                                                                         AS is_deceased,
       CASE WHEN dead THEN $reference_date::DATE - CAST(i % 300 AS INTEGER) END    AS death_date,
       NOT dead AND i % 5 = 0 AND i % 3 = 0                                         AS moved_out,
       CASE WHEN age_years < 22 THEN '未婚'
            ELSE ['已婚', '未婚', '离婚', '丧偶'][1 + i % 4] END                    AS marital_status,
       CASE WHEN age_years >= 22 AND i % 4 = 0
            THEN lead(citizen_id) OVER (ORDER BY i) END                             AS spouse_citizen_id,
       ['11','14','21','31','41','61','71','81'][1 + i % 8]                         AS highest_education_code,
       age_years BETWEEN 6 AND 22 AND i % 10 <> 0                                   AS in_school,
       age_years BETWEEN 16 AND 64 AND i % 4 <> 1                                   AS pension_insured,
       i % 6 <> 0                                                                   AS medical_insured,
       CAST((i * 37) % 400 AS INTEGER)                                              AS insured_months,
       age_years >= 60 AND i % 2 = 0                                                AS receiving_pension,
       CAST((i * 1234) % 200000 AS DECIMAL(18, 2))                                  AS income_last_12m,
       CASE WHEN age_years >= 18 THEN CAST(i % 4 AS INTEGER) ELSE 0 END             AS property_units,
       NOT dead AND ((hukou AND i % 9 <> 0) OR registered OR i % 13 = 0)            AS is_actual_resident,
       CASE WHEN hukou THEN ['hukou', 'social_insurance'] ELSE ['residence_permit', 'tax'] END
                                                                                    AS source_feeds,
       age_years                                                                    AS age,
       age_years BETWEEN 6 AND 15 AND NOT hukou                                     AS is_migrant_child,
       i % 3 <> 0                                                                   AS has_wenzhou_activity,
       CASE WHEN hukou THEN 'hukou/20241231' ELSE 'residence_permit/20241231' END   AS name_source,
       CASE WHEN registered THEN 'residence_permit/20241231' END                    AS residence_source,
       $reference_date::DATE                                                        AS reference_date,
       i AS _i
FROM people
ORDER BY i
"""

HISTORY_SQL = """
CREATE OR REPLACE TABLE marts.population_history AS
WITH p AS (SELECT * FROM marts.population_base),
rows AS (
    -- unchanged since the previous snapshot (or changed: their old row ends on the latest snapshot)
    SELECT citizen_id, $previous::DATE AS valid_from,
           CASE WHEN _i % 6 = 0 OR _i % 10 = 7 THEN $reference_date::DATE END AS valid_to,
           CASE WHEN _i % 6 = 0 THEN NOT in_hukou ELSE in_hukou END AS in_hukou,
           hukou_district_code, has_residence_registration, residence_district_code, is_deceased, moved_out
    FROM p WHERE _i % 8 <> 1
    UNION ALL
    -- the new row of the changed, and the persons new in the latest snapshot
    SELECT citizen_id, $reference_date::DATE, NULL, in_hukou, hukou_district_code,
           has_residence_registration, residence_district_code, is_deceased, moved_out
    FROM p WHERE _i % 8 = 1 OR (_i % 6 = 0 AND _i % 10 <> 7)
)
SELECT * FROM rows
"""

OTHER_SQL = [
    """
    CREATE OR REPLACE TABLE marts.households AS
    SELECT household_no, citizen_id,
           CASE WHEN _i % 3 = 0 THEN '02' ELSE '20' END AS relation_code,
           CASE WHEN _i % 3 = 0 THEN '户主' ELSE '子' END AS relation_label,
           hukou_district_code, _i % 3 = 0 AS is_head, '0' AS person_status
    FROM marts.population_base WHERE in_hukou
    """,
    """
    CREATE OR REPLACE TABLE marts.person_relations AS
    SELECT citizen_id, spouse_citizen_id AS related_citizen_id, 'spouse' AS relation, 'marriage' AS source
    FROM marts.population_base WHERE spouse_citizen_id IS NOT NULL
    UNION ALL
    SELECT m.citizen_id, h.citizen_id, 'parent', 'hukou'
    FROM marts.households AS m JOIN marts.households AS h
      ON h.household_no = m.household_no AND h.is_head AND NOT m.is_head
    """,
    """
    CREATE OR REPLACE TABLE marts.person_flags AS
    SELECT citizen_id, 'NAME_MISMATCH' AS flag_code, 'tax' AS feed,
           '姓名不一致：户籍为' || name || '，个税为' || name || '某（' || citizen_id || '）' AS detail,
           'tax/20241231/0123456789ab' AS delivery_id, 'tax_202412.csv' AS source_file,
           CAST(_i + 1 AS BIGINT) AS source_row
    FROM marts.population_base WHERE _i % 7 = 0
    """,
    """
    CREATE OR REPLACE TABLE ops.quarantine AS
    SELECT 'tax/20241231/0123456789ab' AS delivery_id, 'tax' AS feed, DATE '2024-12-31' AS delivery_date,
           'tax_202412.csv' AS source_file, CAST(_i + 1 AS BIGINT) AS source_row,
           'ID_CHECKSUM' AS reason_code, 'id_number' AS column_name,
           left(citizen_id, 17) || '0' AS offending_value,
           '证件号码 ' || left(citizen_id, 17) || '0 校验位错误，请核对后重报' AS detail,
           to_json({'证件号码': left(citizen_id, 17) || '0', '纳税人姓名': name})::VARCHAR AS raw_record
    FROM marts.population_base WHERE _i % 9 = 4
    """,
    """
    CREATE OR REPLACE VIEW marts.quarantine AS
    SELECT feed, delivery_date, source_file, source_row, reason_code, detail, raw_record,
           column_name, offending_value
    FROM ops.quarantine
    """,
    """
    CREATE OR REPLACE TABLE marts.deliveries AS
    SELECT * FROM (VALUES
        ('hukou', DATE '2024-11-30', 'loaded', 100, 98, 0, 2, NULL),
        ('hukou', DATE '2024-12-31', 'loaded', 101, 100, 1, 0, NULL),
        ('tax', DATE '2024-11-30', 'loaded', 400, 380, 5, 15, NULL),
        ('tax', DATE '2024-12-31', 'loaded', 410, 400, 2, 8, NULL),
        ('marriage', DATE '2024-12-31', 'rejected', 12, 0, 0, 0, '表头缺少列 登记类型（marriage_2024.xlsx）')
    ) AS t(feed, delivery_date, status, rows_received, rows_loaded, rows_duplicate, rows_quarantined,
           message)
    """,
    "ALTER TABLE marts.population_base DROP COLUMN _i",
]


def build_marts(
    path: Path, persons: int = 40, reference_date: dt.date = REFERENCE_DATE,
    previous_snapshot: dt.date = PREVIOUS_SNAPSHOT,
) -> Path:
    """Write a working DuckDB file with schemas `marts` and `ops` at `path`; returns the path."""
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts; CREATE SCHEMA IF NOT EXISTS ops;")
        con.execute(PERSONS_SQL, {"persons": persons, "reference_date": reference_date})
        con.execute(HISTORY_SQL, {"previous": previous_snapshot, "reference_date": reference_date})
        for sql in OTHER_SQL:
            con.execute(sql)
    finally:
        con.close()
    return path
