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

-- For the models built incrementally (population_history, int_tax_events_latest): the newest delivery date the
-- table `built` already covers, when what it was built from still stands; no row means rebuild. `sources`
-- lists the deliveries it was built from, `deliveries` those it should hold now (both: delivery_id,
-- delivery_date). It stands when it was built from something, none of those deliveries is gone, the table is
-- not empty (one emptied or dropped by hand is rebuilt), and every delivery it lacks is newer than the newest
-- it has (a back-dated or replaced delivery means rebuild).
create or replace macro intermediate.incremental_resume_date(sources, deliveries, built) as table
with kept as (
    select
        max(delivery_date) as newest,
        count(*) as held,
        count(*) filter (where delivery_id not in (select delivery_id from query_table(deliveries))) as gone
    from query_table(sources)
)
select newest
from kept
where held > 0 and gone = 0
    and exists (select 1 from query_table(built))
    and not exists (
        select 1
        from query_table(deliveries) as d
        where d.delivery_date <= kept.newest
            and d.delivery_id not in (select delivery_id from query_table(sources))
    );
-- A snapshot pruned by retention (POPBASE_KEEP_SNAPSHOTS) has no rows left: a reference date that would put
-- one back in force is refused rather than answered from an empty snapshot.
select error(
    'the ' || f.feed || ' snapshot of ' || strftime(f.delivery_date, '%Y-%m-%d')
    || ' is in force on the reference date, but retention pruned its rows (POPBASE_KEEP_SNAPSHOTS): '
    || 'choose a later POPBASE_REFERENCE_DATE, or use marts.population_as_of for the history'
)
from intermediate.int_deliveries_in_force as f
inner join ops.deliveries as d on d.delivery_id = f.delivery_id
where d.pruned_at is not null
limit 1;
