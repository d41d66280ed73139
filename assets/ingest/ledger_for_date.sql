-- Ledger rows of one feed and delivery date (at most one is 'loaded').
SELECT delivery_id, content_hash, status, epoch(ingested_at) AS ingested_epoch
FROM ops.deliveries
WHERE feed = $feed AND delivery_date = $delivery_date
ORDER BY ingested_at;
