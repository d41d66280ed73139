-- Citizen ID (公民身份号码, GB 11643-1999): normalisation and validation, set-based.
-- The Python reference implementation is pipelines/lib/citizen_id.py (normalize, validate); the unit
-- tests check that both agree with each other and with python-stdnum's cn.ric.

-- Cleaned ID text: full-width digits and Ｘ/ｘ/x -> ASCII digits and X; blanks (space, tab, CR, LF,
-- U+3000, U+00A0) and hyphens (- and －) removed anywhere; then quotes and apostrophes (' " “ ” ‘ ’)
-- stripped at both ends. NULL when nothing is left.
CREATE OR REPLACE MACRO pb_id_clean_slow(s) AS
    NULLIF(
        trim(
            translate(s, '０１２３４５６７８９Ｘｘx-－' || pb_blank_chars(), '0123456789XXX'),
            '''"“”‘’'
        ),
        ''
    );

-- (Fast path: a value that already is 17 digits + digit/X is returned as is; translate is slow.)
CREATE OR REPLACE MACRO pb_id_clean(s) AS (
    CASE WHEN regexp_full_match(s, '[0-9]{17}[0-9X]') THEN s ELSE pb_id_clean_slow(s) END
);

-- ISO 7064 MOD 11-2 weighted sum of the first 17 digits (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2),
-- written out as plain integer arithmetic on n = the first 17 digits as a BIGINT (digit i = n // 10^(17-i) % 10).
CREATE OR REPLACE MACRO pb_id_weighted_sum_n(n) AS (
      (n // 10000000000000000 % 10) * 7 + (n // 1000000000000000 % 10) * 9 + (n // 100000000000000 % 10) * 10
    + (n // 10000000000000 % 10) * 5 + (n // 1000000000000 % 10) * 8 + (n // 100000000000 % 10) * 4
    + (n // 10000000000 % 10) * 2 + (n // 1000000000 % 10) * 1 + (n // 100000000 % 10) * 6
    + (n // 10000000 % 10) * 3 + (n // 1000000 % 10) * 7 + (n // 100000 % 10) * 9
    + (n // 10000 % 10) * 10 + (n // 1000 % 10) * 5 + (n // 100 % 10) * 8
    + (n // 10 % 10) * 4 + (n // 1 % 10) * 2
);

-- First 17 characters as a BIGINT (NULL unless they are digits; callers check the shape first).
CREATE OR REPLACE MACRO pb_id_first17(d) AS
    TRY_CAST(d[1:17] AS BIGINT);

-- Check character from n (pb_id_first17): sum mod 11 = 0..10 -> 1 0 X 9 8 7 6 5 4 3 2.
CREATE OR REPLACE MACRO pb_id_check_char_n(n) AS
    '10X98765432'[(pb_id_weighted_sum_n(n) % 11) + 1];

-- Check character for text starting with 17 digits.
CREATE OR REPLACE MACRO pb_id_check_char(d) AS
    pb_id_check_char_n(pb_id_first17(d));

-- Legacy 15-digit ID (GB 11643-1989) -> 18 characters: '19' inserted before the year, check added.
CREATE OR REPLACE MACRO pb_id_upgrade15(s) AS
    (s[1:6] || '19' || s[7:15]) || pb_id_check_char(s[1:6] || '19' || s[7:15]);

-- Normalised ID from the cleaned text (pb_id_clean): 15 digits upgraded, anything else unchanged.
CREATE OR REPLACE MACRO pb_id_from_clean(c) AS (
    CASE WHEN length(c) = 15 AND regexp_full_match(c, '[0-9]{15}') THEN pb_id_upgrade15(c) ELSE c END
);

-- Birth date inside a well-formed 18-character ID; NULL when impossible (19990230).
CREATE OR REPLACE MACRO pb_id_birth_date(id) AS
    CAST(try_strptime(id[7:14], '%Y%m%d') AS DATE);

-- Quick shape tests on a normalised ID.
CREATE OR REPLACE MACRO pb_id_is_excel_number(id) AS
    regexp_full_match(id, '[0-9](\.[0-9]+)?[Ee]\+?[0-9]+');
CREATE OR REPLACE MACRO pb_id_is_well_formed(id) AS
    length(id) = 18 AND regexp_full_match(id, '[0-9]{17}[0-9X]');

-- The reason a normalised ID (pb_id_from_clean of pb_id_clean) is not acceptable, or NULL when it is.
-- First that applies:
--   ID_MISSING         empty
--   ID_PRECISION_LOST  Excel number: scientific notation, or 18 digits ending 000 whose check fails
--   ID_MALFORMED       not 17 digits + digit/X
--   ID_CHECKSUM        check character wrong
--   ID_BIRTH_DATE      impossible, after ref_date, or before 1900
--   ID_REGION          address code unknown (region_known false), or retired before the birth year
-- region_known / region_last_year come from a LEFT JOIN of ref.regions on the first 6 characters
-- (last_year NULL = still current). A code is never rejected for being newer than the birth year.
--
-- pb_id_problem_parts takes the expensive parts precomputed (the generated staging SQL computes them
-- as columns of an earlier step, because DuckDB does not share subexpressions inside CASE branches):
--   well_formed = pb_id_is_well_formed(id), check_ch = pb_id_check_char(id), born = pb_id_birth_date(id)
--   (check_ch and born only needed when well_formed).
CREATE OR REPLACE MACRO pb_id_problem_parts(id, well_formed, check_ch, born, ref_date, region_known,
                                            region_last_year) AS (
    CASE
        WHEN id IS NULL THEN 'ID_MISSING'
        WHEN NOT well_formed THEN
            CASE WHEN pb_id_is_excel_number(id) THEN 'ID_PRECISION_LOST' ELSE 'ID_MALFORMED' END
        WHEN id[18] <> check_ch THEN
            CASE WHEN id[16:18] = '000' THEN 'ID_PRECISION_LOST' ELSE 'ID_CHECKSUM' END
        WHEN born IS NULL OR born > ref_date OR year(born) < 1900 THEN 'ID_BIRTH_DATE'
        WHEN NOT coalesce(region_known, false)
            OR year(born) > coalesce(region_last_year, 9999) THEN 'ID_REGION'
    END
);
