-- Whether a re-delivery (reused_from set at ingest) can copy its staged rows instead of staging its raw rows
-- (pipelines/lib/staging_copy.py). The delivery it copied is still loaded and kept, was staged by this code
-- against a reference date no later than this run's, and none of its rows was quarantined for a birth date
-- that this run's reference date has reached: the one check whose outcome moves with the reference date
-- (ID_BIRTH_DATE for a real date after the reference date). Returns the files of both deliveries (in
-- manifest order, to map the names), the copied delivery's duplicate count, reference date and staged row
-- count (the caller checks its staged rows are all kept); no row when the rows must be staged.
SELECT s.delivery_id, s.files, d.files, s.rows_duplicate, s.staged_ref_date, s.rows_loaded
FROM ops.deliveries AS d
JOIN ops.deliveries AS s ON s.delivery_id = d.reused_from
WHERE d.delivery_id = $delivery_id
  AND s.status = 'loaded'
  AND s.pruned_at IS NULL
  AND s.staged_at IS NOT NULL
  AND s.code_fingerprint = $code_fingerprint
  AND s.staged_ref_date <= $ref_date
  AND NOT EXISTS (
      SELECT 1
      FROM ops.quarantine AS q
      WHERE q.delivery_id = s.delivery_id
        AND q.reason_code = 'ID_BIRTH_DATE'
        AND pb_id_birth_date(pb_id_from_clean(pb_id_clean(q.offending_value)))
            BETWEEN s.staged_ref_date + 1 AND $ref_date
  );
