-- grain: one row per person per interval over which their backbone attributes stayed the same
-- depends: intermediate.int_deliveries_in_force
-- Validity intervals from every loaded hukou and residence-registration snapshot up to the reference date:
-- valid_from is the snapshot date a state was first seen, valid_to the snapshot date it stopped (NULL:
-- still valid). population_as_of(d) returns the rows valid on d.
create or replace table marts.population_history as
with snapshots as (
    select delivery_id, feed, delivery_date
    from ops.deliveries
    where feed in ('hukou', 'residence_permit') and status = 'loaded' and staged_at is not null
        and delivery_date <= $reference_date
),
timeline as (
    select delivery_date as t, row_number() over (order by delivery_date) as idx
    from (select distinct delivery_date from snapshots)
),
hukou_in_force as (
    select tl.t, tl.idx, s.delivery_id
    from timeline as tl
    asof inner join (select * from snapshots where feed = 'hukou') as s on tl.t >= s.delivery_date
),
residence_in_force as (
    select tl.t, tl.idx, s.delivery_id
    from timeline as tl
    asof inner join (select * from snapshots where feed = 'residence_permit') as s on tl.t >= s.delivery_date
),
hukou_state as (
    select
        f.t, f.idx, h.citizen_id,
        bool_or(h.person_status = '0') as in_hukou,
        min(h.hukou_district_code) as hukou_district_code,
        bool_or(h.person_status = '1') as is_deceased,
        bool_or(h.person_status = '2') as moved_out
    from hukou_in_force as f
    inner join staging.stg_hukou as h on h.delivery_id = f.delivery_id
    group by all
),
residence_state as (
    select f.t, f.idx, r.citizen_id, min(r.residence_district_code) as residence_district_code
    from residence_in_force as f
    inner join staging.stg_residence_permit as r on r.delivery_id = f.delivery_id
    group by all
),
states as (
    select
        coalesce(h.t, r.t) as t,
        coalesce(h.idx, r.idx) as idx,
        coalesce(h.citizen_id, r.citizen_id) as citizen_id,
        coalesce(h.in_hukou, false) as in_hukou,
        h.hukou_district_code,
        r.citizen_id is not null as has_residence_registration,
        r.residence_district_code,
        coalesce(h.is_deceased, false) as is_deceased,
        coalesce(h.moved_out, false) as moved_out
    from hukou_state as h
    full outer join residence_state as r on r.citizen_id = h.citizen_id and r.idx = h.idx
),
marked as (
    select
        *,
        (
            lag(idx) over w is null
            or lag(idx) over w <> idx - 1
            or (in_hukou, hukou_district_code, has_residence_registration, residence_district_code, is_deceased,
                moved_out) is distinct from lag((in_hukou, hukou_district_code, has_residence_registration,
                residence_district_code, is_deceased, moved_out)) over w
        )::integer as starts_interval
    from states
    window w as (partition by citizen_id order by idx)
),
intervals as (
    select *, sum(starts_interval) over (partition by citizen_id order by idx) as interval_no
    from marked
),
grouped as (
    select
        citizen_id,
        interval_no,
        min(t) as valid_from,
        max(idx) as last_idx,
        any_value(in_hukou) as in_hukou,
        any_value(hukou_district_code) as hukou_district_code,
        any_value(has_residence_registration) as has_residence_registration,
        any_value(residence_district_code) as residence_district_code,
        any_value(is_deceased) as is_deceased,
        any_value(moved_out) as moved_out
    from intervals
    group by citizen_id, interval_no
)
select
    g.citizen_id,
    g.valid_from,
    nxt.t as valid_to,
    g.in_hukou,
    g.hukou_district_code,
    g.has_residence_registration,
    g.residence_district_code,
    g.is_deceased,
    g.moved_out
from grouped as g
left join timeline as nxt on nxt.idx = g.last_idx + 1;

create or replace macro marts.population_as_of(as_of_date) as table
    select *
    from marts.population_history
    where valid_from <= as_of_date and (valid_to is null or valid_to > as_of_date);
