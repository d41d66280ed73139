-- ROW_MALFORMED rows of one file, from the registered Arrow batch `_popbase_quarantine`.
INSERT INTO ops.quarantine (delivery_id, feed, delivery_date, source_file, source_row, reason_code,
                            column_name, offending_value, detail, raw_record)
SELECT $delivery_id, $feed, $delivery_date, $source_file, source_row, 'ROW_MALFORMED',
       NULL, NULL, detail, json_object('line', line)
FROM _popbase_quarantine;
