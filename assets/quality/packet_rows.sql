-- grain: one row per chunk of 10,000 lines of one delivery's feedback packet, as XLSX <row> XML.
-- Lines: every quarantined row of the delivery in file and row order, then every flag its feed's records
-- raised (_packet_flags); row 1 of the sheet is the header, so lines start at row 2. Needs the temp tables
-- _packet_reasons(code, zh, en) and _packet_suggestions(source_file, source_row, suggestions) and the
-- macros of xlsx_macros.sql.
with quarantined as (
    select
        1 as part, q.source_file, q.source_row, 'quarantine 隔离' as kind, q.reason_code as code,
        q.column_name, q.offending_value as value, s.suggestions, q.detail
    from ops.quarantine as q
    left join _packet_suggestions as s on s.source_file = q.source_file and s.source_row = q.source_row
    where q.delivery_id = $delivery_id
),
flagged as (
    select 2, source_file, source_row, 'flag 标记', flag_code, 'citizen_id', citizen_id, null, detail
    from _packet_flags
),
lines as (
    select
        *,
        1 + row_number() over (order by part, source_file nulls last, source_row nulls last, code) as n
    from (select * from quarantined union all select * from flagged)
    qualify n <= $max_lines + 1
),
row_xml as (
    select
        l.n,
        '<row r="' || l.n || '">' || concat(
            pb_xlsx_text('A', l.n, l.source_file, 0),
            pb_xlsx_number('B', l.n, l.source_row),
            pb_xlsx_text('C', l.n, l.kind, 0),
            pb_xlsx_text('D', l.n, l.code, 0),
            pb_xlsx_text('E', l.n, coalesce(r.zh, l.code), 0),
            pb_xlsx_text('F', l.n, coalesce(r.en, l.code), 0),
            pb_xlsx_text('G', l.n, l.column_name, 0),
            pb_xlsx_text('H', l.n, l.value, $text_style),
            pb_xlsx_text('I', l.n, '建议 suggestion: ' || l.suggestions, 0),
            pb_xlsx_text('J', l.n, l.detail, 0),
            pb_xlsx_text('K', l.n, $reply_by, 0)
        ) || '</row>' as xml
    from lines as l
    left join _packet_reasons as r on r.code = l.code
)
select string_agg(xml, '' order by n) as xml
from row_xml
group by n // 10000
order by n // 10000
