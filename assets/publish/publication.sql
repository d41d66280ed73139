-- One row describing this published file. pseudonym_key_id is a fingerprint, never the key: two files
-- with the same id have linkable person_key values.
CREATE OR REPLACE TABLE publication AS
SELECT $file_kind::VARCHAR        AS file_kind,
       $published_at::TIMESTAMP   AS published_at,
       $reference_date::DATE      AS reference_date,
       $pseudonym_key_id::VARCHAR AS pseudonym_key_id;
