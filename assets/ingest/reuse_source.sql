-- The delivery a re-delivery can copy instead of parsing its files (pipelines/lib/ingest/reuse.py): the
-- newest loaded delivery of the feed with the same data (data_hash), loaded and staged by the same code
-- (code_fingerprint), whose raw rows retention has not pruned. Its files in manifest order map the names;
-- its raw rows are complete when they number rows_received less its ROW_MALFORMED rows (event retention
-- deletes old periods' rows without pruning the delivery).
SELECT delivery_id, files, rows_received - (
    SELECT count(*) FROM ops.quarantine AS q
    WHERE q.delivery_id = d.delivery_id AND q.reason_code = 'ROW_MALFORMED'
) AS raw_rows
FROM ops.deliveries AS d
WHERE feed = $feed
  AND status = 'loaded'
  AND pruned_at IS NULL
  AND data_hash = $data_hash
  AND code_fingerprint = $code_fingerprint
  AND delivery_id <> $delivery_id
ORDER BY delivery_date DESC, ingested_at DESC
LIMIT 1;
