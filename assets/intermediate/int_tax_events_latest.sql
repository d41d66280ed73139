-- grain: one row per tax natural key (证件类型, 证件号码, 所得期间, 所得项目, 扣缴义务人) in the deliveries in force
-- depends: intermediate.int_deliveries_in_force
-- Events re-sent in a later delivery as corrections: the latest delivery wins (the key columns are required:
-- staging quarantines rows missing one). Income periods after the reference date are kept here and left
-- out by int_tax_persons. The columns are what int_tax_persons needs and each row's trace; the table
-- persists between runs, so changing them means dropping it (it is then rebuilt).
-- Built incrementally, like population_history: ops.tax_events_latest_sources lists the deliveries the table
-- holds. While those are all still in force and every other delivery in force is newer than the newest of
-- them, only the new deliveries are read: their events replace the rows with the same key and are added.
-- Otherwise (a delivery replaced, rejected, back-dated or past a moved reference date) every delivery in force
-- is read again. Both give the same rows; a month's run reads one month of events, not all of them.
create table if not exists ops.tax_events_latest_sources (delivery_id varchar, delivery_date date);
create table if not exists intermediate.int_tax_events_latest (
    delivery_id varchar,
    delivery_date date,
    source_file varchar,
    source_row bigint,
    id_type varchar,
    id_number varchar,
    citizen_id varchar,
    income_period date,
    income_item varchar,
    income_amount decimal(18, 2),
    agent_credit_code varchar,
    tax_office_district_code varchar
);
create or replace temp table tel_in_force as
select delivery_id, delivery_date
from intermediate.int_deliveries_in_force
where feed = 'tax';
-- one row (resume) when what the table holds still stands, none (rebuild from every delivery in force)
create or replace temp table tel_resume as
select newest
from intermediate.incremental_resume_date(
    'ops.tax_events_latest_sources', 'tel_in_force', 'intermediate.int_tax_events_latest'
);
-- the deliveries to read: the new ones, or on a rebuild every one in force
create or replace temp table tel_read as
select delivery_id
from tel_in_force
where not exists (select 1 from tel_resume)
    or delivery_id not in (select delivery_id from ops.tax_events_latest_sources);

-- the staged rows of the deliveries read now, with the columns this table keeps
create or replace temp view tel_new_rows as
select
    t.delivery_id, t.delivery_date, t.source_file, t.source_row, t.id_type, t.id_number, t.citizen_id,
    t.income_period, t.income_item, t.income_amount, t.agent_credit_code, t.tax_office_district_code
from staging.stg_tax as t
semi join tel_read as d on d.delivery_id = t.delivery_id;

-- the table and the list of what it holds change together
begin transaction;
delete from intermediate.int_tax_events_latest where not exists (select 1 from tel_resume);
-- rows re-sent in a delivery read now are replaced by it
delete from intermediate.int_tax_events_latest as o
using tel_new_rows as n
where o.id_type = n.id_type and o.id_number = n.id_number and o.income_period = n.income_period
    and o.income_item = n.income_item and o.agent_credit_code = n.agent_credit_code;
-- One delivery read (every monthly run, and a first run): staging keeps one row per natural key in a
-- delivery, so its rows go in as they are. Several (a rebuild): the latest delivery of each key wins. The
-- window is what a first run at 10M persons spent most of this step on (8.1 of 10 s for 11.7M rows).
insert into intermediate.int_tax_events_latest by name
select * from tel_new_rows
where (select count(*) from tel_read) = 1;
insert into intermediate.int_tax_events_latest by name
select * from tel_new_rows
where (select count(*) from tel_read) > 1
qualify row_number() over (
    partition by id_type, id_number, income_period, income_item, agent_credit_code
    order by delivery_date desc, delivery_id desc
) = 1;
-- with POPBASE_KEEP_EVENT_MONTHS, income periods before the first one kept leave (retention prunes their staged
-- rows after publishing; NULL keeps every period)
delete from intermediate.int_tax_events_latest where income_period < $events_kept_from;
delete from ops.tax_events_latest_sources;
insert into ops.tax_events_latest_sources select delivery_id, delivery_date from tel_in_force;
commit;
