-- Typed values from delivered text: dates, year-months, integers, amounts, shares.
-- Each returns NULL when the text is empty or cannot be read; the generated staging SQL flags a
-- non-empty value that gives NULL (DATE_INVALID / VALUE_INVALID).
-- The *_text macros take prepared text (pb_clean_text / pb_number_text, a column in the generated chain,
-- so that nothing is computed twice); which preparation goes with which parser is PREPARE and PARSERS in
-- pipelines/lib/staging_sql.py (on a raw field: pb_parse_date_text(pb_clean_text(s))).

-- Dates accepted (after width folding and trimming):
--   20240101 · 2024-01-01 · 2024/1/1 · 2024.1.1 · 2024年1月1日 · ISO date-times (2024-01-01 00:00:00,
--   2024-01-01T08:30, .fff seconds) -> the date · Excel serial numbers 61..99999, optionally with a
--   fraction (45292 or 45292.0 -> 2024-01-01; epoch 1899-12-30, so 61 = 1900-03-01, after Excel's
--   phantom 1900-02-29). Impossible dates (2024-02-30) and years outside 1800..2199 give NULL.
-- (Cheap guards first: a text of 8+ characters starting with a year 1800..2199 is tried against the
-- formats; a short numeric text is an Excel serial; `%Y%m%d` only ever sees 8+ characters.)
CREATE OR REPLACE MACRO pb_parse_date_text(t) AS (
    CASE
        WHEN length(t) >= 8 AND t[6] <> '.' THEN
            CASE WHEN t[1:2] IN ('18', '19', '20', '21') THEN CAST(try_strptime(t, [
                '%Y%m%d', '%Y-%m-%d', '%Y/%m/%d', '%Y.%m.%d', '%Y年%m月%d日',
                '%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M',
                '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M'
            ]) AS DATE) END
        WHEN regexp_full_match(t, '[0-9]{1,5}(\.[0-9]*)?') THEN
            CASE WHEN TRY_CAST(t AS DOUBLE) >= 61
                THEN DATE '1899-12-30' + TRY_CAST(floor(TRY_CAST(t AS DOUBLE)) AS INTEGER) END
    END
);

-- Year-month -> first day of the month: 2024-01 · 202401 · 2024/01 · 2024.1 · 2024年1月 · 2024-1;
-- a full date in any pb_parse_date_text form of 8+ characters is accepted too (its month); Excel serial
-- numbers are not (a 5-digit value such as 20241 is far likelier a typo than a serial).
CREATE OR REPLACE MACRO pb_parse_year_month_text(t) AS (
    CASE
        WHEN length(t) BETWEEN 6 AND 8 AND t[1:2] IN ('18', '19', '20', '21')
            AND try_strptime(t, ['%Y-%m', '%Y%m', '%Y/%m', '%Y.%m', '%Y年%m月']) IS NOT NULL
            THEN CAST(try_strptime(t, ['%Y-%m', '%Y%m', '%Y/%m', '%Y.%m', '%Y年%m月']) AS DATE)
        WHEN length(t) >= 8 THEN CAST(date_trunc('month', pb_parse_date_text(t)) AS DATE)
    END
);

-- Number text: width-folded, blanks removed anywhere, a leading ¥ (or ￥) dropped; NULL when empty.
-- (Plain digits, the usual case, skip the translate: 6x faster at 10M values.)
CREATE OR REPLACE MACRO pb_number_text(s) AS (
    CASE WHEN regexp_full_match(s, '[0-9.]+') THEN s
        ELSE NULLIF(ltrim(translate(pb_fold_width(s), pb_blank_chars(), ''), '¥'), '') END
);

-- Amount -> DECIMAL(18,2): optional sign, digits with correct thousands grouping (12,345.67) or none,
-- optional decimals (more than 2 are rounded half away from zero). Anything else -> NULL.
CREATE OR REPLACE MACRO pb_parse_amount_text(t) AS (
    CASE WHEN regexp_full_match(t, '[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?|[+-]?\.[0-9]+')
        THEN TRY_CAST(replace(t, ',', '') AS DECIMAL(18, 2))
    END
);

-- Integer -> BIGINT: like an amount but whole (a trailing .0 as written by JSON/Excel is accepted).
CREATE OR REPLACE MACRO pb_parse_integer_text(t) AS (
    CASE WHEN regexp_full_match(t, '[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.0*)?')
        THEN TRY_CAST(regexp_replace(replace(t, ',', ''), '\.0*$', '') AS BIGINT)
    END
);

-- Share of a 按份共有 owner -> DOUBLE fraction in (0, 1]: 50% · 1/2 · 0.5 · .5 · ０.５ · 100%.
CREATE OR REPLACE MACRO pb_share_value(t) AS (
    CASE
        WHEN regexp_full_match(t, '[0-9]+(\.[0-9]+)?%') THEN TRY_CAST(rtrim(t, '%') AS DOUBLE) / 100
        WHEN regexp_full_match(t, '[0-9]+/[0-9]+') AND TRY_CAST(split_part(t, '/', 2) AS DOUBLE) > 0 THEN
            TRY_CAST(split_part(t, '/', 1) AS DOUBLE) / TRY_CAST(split_part(t, '/', 2) AS DOUBLE)
        WHEN regexp_full_match(t, '[0-9]*\.?[0-9]+') THEN TRY_CAST(t AS DOUBLE)
    END
);
CREATE OR REPLACE MACRO pb_share_in_range(x) AS (CASE WHEN x > 0 AND x <= 1 THEN x END);
CREATE OR REPLACE MACRO pb_parse_share_text(t) AS
    pb_share_in_range(pb_share_value(t));
