-- grain: one row per delivery whose rows are in force on the reference date
-- depends: staging.*
-- Snapshot feeds: the latest loaded (and staged) delivery on or before the reference date; a rejected
-- delivery never counts, so the previous good snapshot stays in force. Event feeds: every loaded delivery
-- on or before the reference date (a re-sent event is resolved by the latest delivery, downstream).
create schema if not exists intermediate;
create or replace table intermediate.int_deliveries_in_force as
with loaded as (
    select
        d.delivery_id,
        d.feed,
        d.delivery_date,
        f.kind,
        row_number() over (partition by d.feed order by d.delivery_date desc) as recency
    from ops.deliveries as d
    inner join ref.feeds as f on f.feed = d.feed
    where d.status = 'loaded' and d.staged_at is not null and d.delivery_date <= $reference_date
)
select delivery_id, feed, delivery_date, kind
from loaded
where kind = 'events' or recency = 1;
