-- Text clean-up shared by the staging macros (pipelines/lib/staging.py generates SQL that calls them).
-- Folding rules are lossless: only width variants and surrounding blanks change.

-- Characters treated as blank: space, tab, CR, LF, ideographic (full-width) space U+3000, no-break space.
-- (A literal: built with chr() it is not folded to a constant and trim gets 100x slower.)
CREATE OR REPLACE MACRO pb_blank_chars() AS
    E' \t\r\n　 ';

-- Whether text starts or ends with one of pb_blank_chars(). Most values have no surrounding blank and so
-- skip trim with a character set, which is twice as slow at 10M rows (left/right count code points).
CREATE OR REPLACE MACRO pb_has_edge_blank(s) AS (
    contains(pb_blank_chars(), left(s, 1)) OR contains(pb_blank_chars(), right(s, 1))
);

-- Trimmed text; NULL when empty (an empty field and NULL both mean "not given").
CREATE OR REPLACE MACRO pb_trim(s) AS
    NULLIF(CASE WHEN pb_has_edge_blank(s) THEN trim(s, pb_blank_chars()) ELSE s END, '');

-- Full-width digits and punctuation used in numbers folded to ASCII: ０-９ ， ． ％ ／ ＋ － ￥.
-- (translate is slow, so only text with a full-width character, U+FF01..U+FFE5, goes through it.)
CREATE OR REPLACE MACRO pb_has_full_width(s) AS
    strlen(s) <> length(s) AND regexp_matches(s, '[\x{FF01}-\x{FFE5}]');
CREATE OR REPLACE MACRO pb_fold_width(s) AS (
    CASE WHEN pb_has_full_width(s) THEN translate(s, '０１２３４５６７８９，．％／＋－￥', '0123456789,.%/+-¥') ELSE s END
);

-- Prepared text of a code, date or sex field: width-folded and trimmed, NULL when empty.
CREATE OR REPLACE MACRO pb_clean_text(s) AS
    pb_trim(pb_fold_width(s));

-- Sex: GB/T 2261.1 code 1/2 or 男/女 -> 男/女; anything else -> NULL (the caller flags VALUE_INVALID).
CREATE OR REPLACE MACRO pb_parse_sex_text(t) AS (
    CASE t
        WHEN '1' THEN '男' WHEN '男' THEN '男'
        WHEN '2' THEN '女' WHEN '女' THEN '女'
    END
);
