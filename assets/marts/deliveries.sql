-- grain: one row per delivery that arrived (loaded, rejected or superseded by a re-delivery)
-- depends: intermediate.int_deliveries_in_force
-- For every staged delivery: rows_received = rows_loaded + rows_duplicate + rows_quarantined.
create or replace table marts.deliveries as
select
    feed,
    delivery_date,
    status,
    rows_received,
    rows_loaded,
    rows_quarantined,
    rows_duplicate,
    message,
    delivery_id,
    content_hash,
    ingested_at,
    staged_at,
    reused_from
from ops.deliveries
order by feed, delivery_date, ingested_at;
