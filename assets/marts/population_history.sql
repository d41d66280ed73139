-- grain: one row per person per interval over which their backbone attributes stayed the same
-- depends: intermediate.int_deliveries_in_force
-- Validity intervals from every loaded hukou and residence-registration snapshot up to the reference date:
-- valid_from is the snapshot date a state was first seen, valid_to the snapshot date it stopped (NULL:
-- still valid). population_as_of(d) returns the rows valid on d.
-- Built incrementally: ops.population_history_sources lists the snapshots the table was built from. Up to the
-- first date where the snapshots now loaded and in range differ from those (one replaced, rejected, delivered
-- late or past a moved reference date; none: the newest date it holds), the history stands: its intervals
-- that ended by then are kept, those running then reopen, and only the newer snapshots are read, so a monthly
-- run reads one month and not the whole history. With nothing standing it is rebuilt from every snapshot.
-- All give the same rows. Snapshots pruned by retention have no rows: a build that would read one fails.
create table if not exists ops.population_history_sources (delivery_id varchar, feed varchar, delivery_date date);
create table if not exists marts.population_history (
    citizen_id varchar,
    valid_from date,
    valid_to date,
    in_hukou boolean,
    hukou_district_code varchar,
    has_residence_registration boolean,
    residence_district_code varchar,
    is_deceased boolean,
    moved_out boolean
);
create or replace temp table ph_snapshots as
select delivery_id, feed, delivery_date
from ops.deliveries
where feed in ('hukou', 'residence_permit') and status = 'loaded' and staged_at is not null
    and delivery_date <= $reference_date;
-- the newest snapshot date up to which the table stands (no row: rebuild)
create or replace temp table ph_resume as
with changed as (
    select delivery_date
    from ops.population_history_sources
    where delivery_id not in (select delivery_id from ph_snapshots)
    union all
    select delivery_date
    from ph_snapshots
    where delivery_id not in (select delivery_id from ops.population_history_sources)
),
standing as (
    select max(s.delivery_date) as resume_date
    from ops.population_history_sources as s
    where s.delivery_date < coalesce((select min(delivery_date) from changed), date '9999-12-31')
)
select resume_date
from standing
where resume_date is not null and exists (select 1 from marts.population_history);
-- the snapshots this build reads (the newer ones, and per feed the one in force on the resume date) must
-- still have their rows
select error(
    'population_history must be rebuilt from the ' || s.feed || ' snapshot of ' || strftime(s.delivery_date, '%Y-%m-%d')
    || ', whose rows retention pruned (POPBASE_KEEP_SNAPSHOTS), because a snapshot of that period was replaced, '
    || 'rejected or delivered late: reject that delivery, or restore the working file from before it'
)
from (
    select
        s.*,
        s.delivery_date > r.resume_date or s.delivery_date = max(s.delivery_date)
            filter (where s.delivery_date <= r.resume_date) over (partition by s.feed) as is_read
    from ph_snapshots as s,
        (select coalesce((select resume_date from ph_resume), date '0001-01-01') as resume_date) as r
) as s
inner join ops.deliveries as d on d.delivery_id = s.delivery_id
where s.is_read and d.pruned_at is not null
limit 1;
create or replace table marts.population_history_next as
with resume as (
    select (select resume_date from ph_resume) as resume_date
),
open_intervals as (
    -- the state of everyone present on the resume date, with the date their interval began
    select h.*
    from marts.population_history as h, resume as r
    where h.valid_from <= r.resume_date and (h.valid_to is null or h.valid_to > r.resume_date)
),
new_dates as (
    select distinct s.delivery_date as t
    from ph_snapshots as s, resume as r
    where r.resume_date is null or s.delivery_date > r.resume_date
),
timeline as (
    -- idx 0 is the resume date (its state comes from open_intervals), then each newer snapshot date
    select resume_date as t, 0 as idx from resume where resume_date is not null
    union all
    select t, row_number() over (order by t) as idx from new_dates
),
hukou_in_force as (
    select tl.t, tl.idx, s.delivery_id
    from (select * from timeline where idx > 0) as tl
    asof inner join (select * from ph_snapshots where feed = 'hukou') as s on tl.t >= s.delivery_date
),
residence_in_force as (
    select tl.t, tl.idx, s.delivery_id
    from (select * from timeline where idx > 0) as tl
    asof inner join (select * from ph_snapshots where feed = 'residence_permit') as s on tl.t >= s.delivery_date
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
        null::date as open_since,
        coalesce(h.citizen_id, r.citizen_id) as citizen_id,
        coalesce(h.in_hukou, false) as in_hukou,
        h.hukou_district_code,
        r.citizen_id is not null as has_residence_registration,
        r.residence_district_code,
        coalesce(h.is_deceased, false) as is_deceased,
        coalesce(h.moved_out, false) as moved_out
    from hukou_state as h
    full outer join residence_state as r on r.citizen_id = h.citizen_id and r.idx = h.idx
    union all
    select
        r.resume_date, 0, o.valid_from, o.citizen_id, o.in_hukou, o.hukou_district_code,
        o.has_residence_registration, o.residence_district_code, o.is_deceased, o.moved_out
    from open_intervals as o, resume as r
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
        min(coalesce(open_since, t)) as valid_from,
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
select h.*
from marts.population_history as h, resume as r
where h.valid_to <= r.resume_date
union all
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

-- the new table and the list of what it was built from change together
begin transaction;
drop table marts.population_history;
alter table marts.population_history_next rename to population_history;
delete from ops.population_history_sources;
insert into ops.population_history_sources select delivery_id, feed, delivery_date from ph_snapshots;
commit;

create or replace macro marts.population_as_of(as_of_date) as table
    select *
    from marts.population_history
    where valid_from <= as_of_date and (valid_to is null or valid_to > as_of_date);
