-- Quarantine rows of a replaced delivery (its raw and staging rows are deleted by generated SQL).
DELETE FROM ops.quarantine WHERE delivery_id = $delivery_id;
