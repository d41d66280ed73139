-- XLSX cell XML built in SQL; pipelines/lib/quality/xlsx.py zips it into a workbook. Temp macros (per connection).
-- pb_xml_text: a value as XML text, cut to Excel's 32,767 characters: characters XML 1.0 forbids become
-- Excel's _xHHHH_ escapes, & < > are escaped, line breaks become character references (one row, one line).
create or replace temp macro pb_xml_text(v) as
    replace(replace(replace(replace(replace(
        case
            when regexp_matches(v, '[\x00-\x08\x0B\x0C\x0E-\x1F]') then array_to_string(list_transform(
                string_split(left(v, 32767), ''),
                lambda ch: case when ascii(ch) < 32 and ascii(ch) not in (9, 10, 13)
                                then printf('_x%04X_', ascii(ch)) else ch end), '')
            else left(v, 32767)
        end,
        '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), chr(10), '&#10;'), chr(13), '&#13;');

-- An inline-string cell at column letter `col`, row `n`, with style `style` (0 = none); NULL for a NULL value.
create or replace temp macro pb_xlsx_text(col, n, v, style) as
    case when v is not null then
        '<c r="' || col || n || '"' || case when style > 0 then ' s="' || style || '"' else '' end
        || ' t="inlineStr"><is><t xml:space="preserve">' || pb_xml_text(v) || '</t></is></c>'
    end;

-- A number cell; NULL for a NULL value.
create or replace temp macro pb_xlsx_number(col, n, v) as
    case when v is not null then '<c r="' || col || n || '"><v>' || v || '</v></c>' end;
