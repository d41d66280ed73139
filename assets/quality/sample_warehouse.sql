-- A small, clean warehouse that follows docs/architecture.md: the fixture of the quality tests and the
-- synthetic table of the engine benchmark. $n persons; person i has a valid 18-character ID
-- (odd i = male); the first 80% are hukou, the rest residence registrations. $ref is the reference date.
create schema if not exists staging;
create schema if not exists marts;
create schema if not exists ops;
create or replace temp macro qs_check_char(f17) as
  substr('10X98765432', 1 + cast(list_sum(list_transform(range(17),
    lambda i: (ascii(substr(f17, i + 1, 1)) - 48) * [7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2][i + 1])) % 11 as integer), 1);
create or replace temp table qs_persons as
with base as (
  select range as i,
    (['330302','330303','330304','330305','330324','330326','330327','330328','330329','330381','330382','330383'])[1 + (range // 1000) % 12] as district,
    date '1940-01-01' + cast((range // 12000) % 25000 as integer) as birth,
    lpad(cast(range % 1000 as varchar), 3, '0') as seq
  from range($n)
), ids as (
  select *, district || strftime(birth, '%Y%m%d') || seq as f17 from base
)
select i, f17 || qs_check_char(f17) as citizen_id, district, birth,
  case when i % 2 = 1 then '男' else '女' end as sex, '张' || cast(i as varchar) as name,
  i < $n * 0.8 as in_hukou
from ids;
create or replace table staging.stg_hukou as
select 'hukou/20260331/abc' as delivery_id, date '2026-03-31' as delivery_date, 'hukou.csv' as source_file,
  i + 1 as source_row, citizen_id, name, sex, '01' as ethnicity_code, birth as birth_date,
  'H' || cast(i // 3 as varchar) as household_no, case when i % 3 = 0 then '02' else '20' end as relation_code,
  district as hukou_district_code, '某街道' as hukou_address, null::varchar as former_hukou_nature,
  '0' as person_status, null::date as status_change_date
from qs_persons where in_hukou;
create or replace table staging.stg_residence_permit as
select 'residence_permit/20260331/abc' as delivery_id, date '2026-03-31' as delivery_date, 'rp.csv' as source_file,
  i + 1 as source_row, citizen_id, name, sex, birth as birth_date, '110101' as hukou_place_code,
  district as residence_district_code, '某路' as residence_address, date '2020-01-01' as registration_date,
  null::varchar as permit_no, null::date as permit_issue_date, null::date as permit_valid_until,
  '租赁住房' as dwelling_type, null::varchar as employer_name
from qs_persons where not in_hukou;
create or replace table staging.stg_education as
select 'education/20260331/abc' as delivery_id, date '2026-03-31' as delivery_date, 'edu.csv' as source_file,
  i + 1 as source_row, 'S' || cast(i as varchar) as student_no, citizen_id, name, sex, '某小学' as school_name,
  district as school_district_code, '小学' as school_stage, date '2020-09-01' as enrolment_date,
  '在读' as student_status, null::date as graduation_date, null::varchar as attainment_code, '否' as is_migrant_child
from qs_persons where i % 7 = 0;
create or replace table staging.stg_social_insurance as
select 'social_insurance/20260331/abc' as delivery_id, date '2026-03-31' as delivery_date, 'si.jsonl' as source_file,
  i + 1 as source_row, 'P' || cast(i as varchar) as person_no, citizen_id, name, sex, '110' as insurance_type,
  '1' as insured_status, date '2015-01-01' as insured_since, date '2026-02-01' as last_paid_month,
  120::bigint as months_paid, '0' as benefit_status, 'E1' as employer_no, '某公司' as employer_name,
  district as insured_district_code
from qs_persons where i % 2 = 0;
create or replace table staging.stg_tax as
select 'tax/20260331/abc' as delivery_id, date '2026-03-31' as delivery_date, 'tax.csv' as source_file,
  i + 1 as source_row, '居民身份证' as id_type, citizen_id as id_number, citizen_id, name,
  date '2026-02-01' as income_period, '工资薪金所得' as income_item, 8000.00::decimal(18,2) as income_amount,
  100.00::decimal(18,2) as tax_withheld, '某公司' as agent_name, '91330300MA0000000X' as agent_credit_code,
  district as tax_office_district_code
from qs_persons where i % 3 = 0;
create or replace table staging.stg_marriage as
select 'marriage/20260331/abc' as delivery_id, date '2026-03-31' as delivery_date, 'm.xlsx' as source_file,
  h.i + 1 as source_row, 'J' || cast(h.i as varchar) as certificate_no, '结婚登记' as registration_type,
  date '2025-05-20' as registration_date, h.citizen_id as husband_citizen_id, h.name as husband_name,
  w.citizen_id as wife_citizen_id, w.name as wife_name, '民政局' as registry_office, h.district as office_district_code
from qs_persons h join qs_persons w on w.i = h.i + 1 where h.i % 20 = 1;
create or replace table staging.stg_property as
select 'property/20260331/abc' as delivery_id, date '2026-03-31' as delivery_date, 'p.parquet' as source_file,
  i + 1 as source_row, 'T' || cast(i as varchar) as title_no, lpad(cast(i as varchar), 28, '0') as unit_no,
  name as owner_name, '居民身份证' as owner_id_type, citizen_id as owner_id_number, citizen_id as owner_citizen_id,
  '单独所有' as co_ownership, null::double as share, '某路1号' as location, district as district_code,
  '住宅' as usage, 90.00::decimal(18,2) as floor_area, date '2018-06-01' as registration_date, '现势' as title_status
from qs_persons where i % 6 = 0;
create or replace table marts.population_base as
select p.citizen_id, p.name, p.sex, p.birth as birth_date, p.in_hukou,
  case when p.in_hukou then p.district end as hukou_district_code, not p.in_hukou as has_residence_registration,
  p.district as residence_district_code, false as is_deceased, null::date as death_date, false as moved_out,
  case when m.husband_citizen_id is not null or w.wife_citizen_id is not null then '已婚' else '未婚' end as marital_status,
  coalesce(m.wife_citizen_id, w.husband_citizen_id) as spouse_citizen_id,
  ['hukou'] as source_feeds, $ref::date as reference_date
from qs_persons p
left join staging.stg_marriage m on m.husband_citizen_id = p.citizen_id
left join staging.stg_marriage w on w.wife_citizen_id = p.citizen_id;
create or replace table marts.households as
select household_no, citizen_id, relation_code, case when relation_code = '02' then '户主' else '子' end as relation_label,
  hukou_district_code, relation_code = '02' as is_head
from staging.stg_hukou;
create or replace table marts.person_flags as
select citizen_id, 'NAME_MISMATCH' as flag_code, 'tax' as feed, '姓名与户籍不一致' as detail,
  'tax/20260331/abc' as delivery_id, 'tax.csv' as source_file, i + 1 as source_row
from qs_persons where i % 3 = 0 and i % 11 = 0;
create or replace table ops.quarantine (delivery_id varchar, feed varchar, delivery_date date, source_file varchar,
  source_row bigint, reason_code varchar, column_name varchar, offending_value varchar, detail varchar, raw_record varchar);
insert into ops.quarantine
select 'tax/20260331/abc', 'tax', date '2026-03-31', 'tax.csv', 1000000 + i, 'ID_CHECKSUM', 'id_number',
  -- one digit of the address code changed: a typo a clerk can fix
  substr(citizen_id, 1, 4) || cast((cast(substr(citizen_id, 5, 1) as integer) + 1) % 10 as varchar) || substr(citizen_id, 6),
  '校验码错误', '{}'
from qs_persons where i % 3 = 0 and i < 30;
create or replace table ops.deliveries as
select feed || '/20260331/abc' as delivery_id, feed, date '2026-03-31' as delivery_date, 'h' as content_hash,
  'loaded' as status, 0::bigint as rows_received, 0::bigint as rows_loaded, 0::bigint as rows_duplicate,
  0::bigint as rows_quarantined, null::varchar as message, ['x'] as files,
  now()::timestamp as ingested_at, now()::timestamp as staged_at, null::timestamp as pruned_at
from (select unnest(['hukou','residence_permit','education','social_insurance','tax','marriage','property']) as feed);
update ops.deliveries d set rows_loaded = s.n, rows_received = s.n from (
  select 'hukou' as feed, count(*) as n from staging.stg_hukou
  union all select 'residence_permit', count(*) from staging.stg_residence_permit
  union all select 'education', count(*) from staging.stg_education
  union all select 'social_insurance', count(*) from staging.stg_social_insurance
  union all select 'tax', count(*) from staging.stg_tax
  union all select 'marriage', count(*) from staging.stg_marriage
  union all select 'property', count(*) from staging.stg_property) s where s.feed = d.feed;
update ops.deliveries d set rows_quarantined = q.n, rows_received = d.rows_received + q.n
from (select delivery_id, count(*) as n from ops.quarantine group by all) q where q.delivery_id = d.delivery_id;
create or replace table marts.deliveries as
select feed, delivery_date, status, rows_received, rows_loaded, rows_duplicate, rows_quarantined, message
from ops.deliveries;
