-- Snapshot deliveries whose raw and staged rows the working file stops keeping: per snapshot feed, the loaded
-- and staged deliveries on or before the reference date older than the newest $keep of them, not pruned yet.
-- A delivery the population history has not absorbed is never pruned (the history is built from hukou and
-- residence-registration snapshots and keeps what they said). One row per delivery to prune.
with ranked as (
    select
        d.delivery_id,
        d.feed,
        d.delivery_date,
        d.pruned_at,
        row_number() over (partition by d.feed order by d.delivery_date desc, d.delivery_id desc) as recency
    from ops.deliveries as d
    inner join ref.feeds as f on f.feed = d.feed
    where f.kind = 'snapshot' and d.status = 'loaded' and d.staged_at is not null
        and d.delivery_date <= $reference_date
)
select feed, delivery_id, delivery_date
from ranked
where recency > $keep
    and pruned_at is null
    and (
        feed not in ('hukou', 'residence_permit')
        or delivery_id in (select delivery_id from ops.population_history_sources)
    )
order by feed, delivery_date;
