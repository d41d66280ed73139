-- One ledger row per delivery_id; a retried rejected or re-sent superseded delivery updates its row.
INSERT INTO ops.deliveries (delivery_id, feed, delivery_date, content_hash, status, rows_received,
                            rows_loaded, rows_duplicate, rows_quarantined, message, files, ingested_at, staged_at,
                            data_hash, code_fingerprint, reused_from)
VALUES ($delivery_id, $feed, $delivery_date, $content_hash, $status, $rows_received,
        NULL, NULL, $rows_quarantined, $message, $files, $ingested_at, NULL, $data_hash,
        $code_fingerprint, $reused_from)
ON CONFLICT (delivery_id) DO UPDATE SET
    status = excluded.status,
    rows_received = excluded.rows_received,
    rows_loaded = NULL,
    rows_duplicate = NULL,
    rows_quarantined = excluded.rows_quarantined,
    message = excluded.message,
    files = excluded.files,
    ingested_at = excluded.ingested_at,
    staged_at = NULL,
    staged_ref_date = NULL,
    data_hash = excluded.data_hash,
    code_fingerprint = excluded.code_fingerprint,
    reused_from = excluded.reused_from,
    pruned_at = NULL,
    feedback_at = NULL;
