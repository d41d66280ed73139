-- grain: one row per registry feed
-- depends: staging.*
-- Which departments are late: a feed is late when no delivery has been loaded since its last loaded delivery
-- date plus the registry's cadence_days plus grace_days (ref.feeds), as of $as_of_date: POPBASE_REFERENCE_DATE
-- when it is set (as the quality rules' timeliness checks), else the day this model runs. A feed that has never
-- had a delivery loaded is late too (status never_loaded, no due date). Rejected deliveries do not count as
-- arrived: the department still owes a correct one (last_rejected_date shows it).
create or replace table marts.feed_freshness as
with loaded as (
    select feed, max(delivery_date) as last_delivery_date, count(distinct delivery_date) as deliveries_loaded
    from ops.deliveries
    where status = 'loaded'
    group by feed
),
rejected as (
    select feed, max(delivery_date) as last_rejected_date
    from ops.deliveries
    where status = 'rejected'
    group by feed
),
due as (
    select
        f.feed,
        f.title_zh,
        f.title_en,
        f.department_zh,
        f.department_en,
        f.kind,
        f.cadence_days,
        f.grace_days,
        l.last_delivery_date,
        coalesce(l.deliveries_loaded, 0) as deliveries_loaded,
        r.last_rejected_date,
        l.last_delivery_date + f.cadence_days as expected_date,
        l.last_delivery_date + (f.cadence_days + f.grace_days) as due_date,
        $as_of_date::date as as_of_date
    from ref.feeds as f
    left join loaded as l using (feed)
    left join rejected as r using (feed)
)
select
    *,
    due_date is null or as_of_date > due_date as is_late,
    case when due_date is null then null else greatest(as_of_date - due_date, 0) end as days_late,
    case
        when last_delivery_date is null then 'never_loaded'
        when as_of_date > due_date then 'late'
        when as_of_date > expected_date then 'in_grace'
        else 'on_time'
    end as status
from due
order by feed;
