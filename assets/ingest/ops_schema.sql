-- Ledger and quarantine shared by every layer (docs/architecture.md). Idempotent.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE SCHEMA IF NOT EXISTS raw;

CREATE TABLE IF NOT EXISTS ops.deliveries (
    delivery_id      VARCHAR PRIMARY KEY,
    feed             VARCHAR NOT NULL,
    delivery_date    DATE NOT NULL,
    content_hash     VARCHAR NOT NULL,
    status           VARCHAR NOT NULL,
    rows_received    BIGINT,
    rows_loaded      BIGINT,
    rows_duplicate   BIGINT,
    rows_quarantined BIGINT,
    message          VARCHAR,
    files            VARCHAR[],
    ingested_at      TIMESTAMP,
    staged_at        TIMESTAMP,
    pruned_at        TIMESTAMP,
    feedback_at      TIMESTAMP
);
-- working files created before snapshot retention and per-delivery feedback
ALTER TABLE ops.deliveries ADD COLUMN IF NOT EXISTS pruned_at TIMESTAMP;
ALTER TABLE ops.deliveries ADD COLUMN IF NOT EXISTS feedback_at TIMESTAMP;
-- working files created before re-delivered data was copied instead of parsed (pipelines/lib/ingest/reuse.py)
ALTER TABLE ops.deliveries ADD COLUMN IF NOT EXISTS data_hash VARCHAR;
ALTER TABLE ops.deliveries ADD COLUMN IF NOT EXISTS code_fingerprint VARCHAR;
ALTER TABLE ops.deliveries ADD COLUMN IF NOT EXISTS reused_from VARCHAR;
ALTER TABLE ops.deliveries ADD COLUMN IF NOT EXISTS staged_ref_date DATE;

CREATE TABLE IF NOT EXISTS ops.quarantine (
    delivery_id     VARCHAR,
    feed            VARCHAR,
    delivery_date   DATE,
    source_file     VARCHAR,
    source_row      BIGINT,
    reason_code     VARCHAR,
    column_name     VARCHAR,
    offending_value VARCHAR,
    detail          VARCHAR,
    raw_record      VARCHAR
);

COMMENT ON TABLE ops.deliveries IS 'One row per delivery seen, keyed by content: loaded, rejected or superseded';
COMMENT ON COLUMN ops.deliveries.delivery_id IS '<feed>/<YYYYMMDD>/<first 12 hex of content_hash>';
COMMENT ON COLUMN ops.deliveries.content_hash IS 'sha256 over feed, date and the manifest''s sorted (name, sha256) pairs';
COMMENT ON COLUMN ops.deliveries.status IS 'loaded, rejected, or superseded (a later delivery with the same feed and date replaced it)';
COMMENT ON COLUMN ops.deliveries.rows_received IS 'data rows in the files (header excluded)';
COMMENT ON COLUMN ops.deliveries.rows_quarantined IS 'rows in ops.quarantine for this delivery';
COMMENT ON COLUMN ops.deliveries.pruned_at IS 'when retention deleted the raw and staged rows of this superseded snapshot (POPBASE_KEEP_SNAPSHOTS); its ledger row, quarantine and history stay';
COMMENT ON COLUMN ops.deliveries.feedback_at IS 'when the last feedback packet for this delivery was written (a delivery without one gets one in the next run)';
COMMENT ON COLUMN ops.deliveries.data_hash IS 'sha256 over the manifest''s (sha256, rows) of each file in order: the data without names or date';
COMMENT ON COLUMN ops.deliveries.code_fingerprint IS 'fingerprint of the loading and staging code and rules that produced this delivery''s raw and staged rows';
COMMENT ON COLUMN ops.deliveries.reused_from IS 'the earlier delivery with the same data_hash whose rows were copied instead of parsing the files again';
COMMENT ON COLUMN ops.deliveries.staged_ref_date IS 'the reference date IDs were checked against when the delivery was staged (no birth date after it)';
COMMENT ON COLUMN ops.deliveries.message IS 'why a delivery was rejected (names file, column, difference)';
COMMENT ON TABLE ops.quarantine IS 'Every delivered row that did not make it in, and why';
COMMENT ON COLUMN ops.quarantine.source_row IS '1-based data row number in source_file, header excluded';
COMMENT ON COLUMN ops.quarantine.reason_code IS 'one reason code of shared/spec/warehouse.md';
COMMENT ON COLUMN ops.quarantine.raw_record IS 'JSON: header -> value as delivered; for ROW_MALFORMED {"line": ...}';
