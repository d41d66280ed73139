-- grain: one row per person known to any feed (citizen ID), on the reference date
-- depends: intermediate.int_person_mentions, intermediate.int_hukou_persons, intermediate.int_residence_persons, intermediate.int_education_persons, intermediate.int_insurance_persons, intermediate.int_tax_persons, intermediate.int_marital_status, intermediate.int_property_persons, intermediate.int_deliveries_in_force
-- The population base (人口基础信息库). Sex and birth date come from the ID itself; the name from the most
-- trusted feed reporting one (registry `trust`: hukou, residence registration, then the departments),
-- with its source kept in name_source. is_actual_resident applies assets/actual_population.yml; the
-- residence county (residence registration, else hukou, else school / insurance / tax office county) is
-- kept only for people counted as living in the city, with its source delivery in residence_source.
create schema if not exists marts;
-- The join key of a valid citizen ID: its first 17 digits as a BIGINT (the check character follows from
-- them). Hashing and comparing it is cheaper than 18 characters of text, which DuckDB cannot inline.
create or replace macro pb_id_key(id) as cast(left(id, 17) as bigint);
create or replace temp view pb_ranked_mentions as
-- integers keep the per-person aggregation and the joins cheap at city scale: persons are grouped and
-- joined on pb_id_key (the ID's first 17 digits), and name_rank is lower = more trusted, then newer
select
    pb_id_key(m.citizen_id) as id_key,
    m.name,
    f.trust,
    nullif(trim(m.name), '') is not null as has_name,
    f.trust * 1000000 - date_diff('day', date '2000-01-01', m.delivery_date) as name_rank
from intermediate.int_person_mentions as m
inner join ref.feeds as f on f.feed = m.feed;
-- One pass (one row per person): which feeds mention them, and the best-ranked name with its rank; of two
-- spellings in the same delivery of the same feed the first in code-point order, so every run picks the same
-- one. Each group keeps one name, not the mentions' text (a second pass over the mentions to fetch the picked
-- ID and name took 45 of this model's 73 s at 10M persons).
create or replace temp table pb_person_ranks as
select
    id_key,
    bit_or(1::bigint << trust) as feed_mask,
    min({'rank': name_rank, 'name': name}) filter (where has_name) as best_name
from pb_ranked_mentions
group by id_key;
create or replace table marts.population_base as
with feed_order as (
    select list(feed order by feed) as feeds, list(trust order by feed) as trusts from ref.feeds
),
people_ranked as (
    -- the ID from its key: staged citizen IDs are valid, so the check character follows from the 17 digits
    select
        k.id_key,
        lpad(cast(k.id_key as varchar), 17, '0') || pb_id_check_char_n(k.id_key) as citizen_id,
        k.feed_mask,
        k.best_name.name as name,
        k.best_name.rank as best_name_rank
    from pb_person_ranks as k
),
people as (
    select
        p.id_key,
        p.citizen_id,
        list_filter(o.feeds, lambda feed, i: (p.feed_mask >> o.trusts[i]) & 1 = 1) as source_feeds,
        p.name,
        -- name_rank = trust * 1,000,000 - days since 2000-01-01 of the delivery: both come back from it
        o.feeds[list_position(o.trusts, (p.best_name_rank + 999999) // 1000000)] || '/' || strftime(
            date '2000-01-01' + cast((p.best_name_rank + 999999) // 1000000 * 1000000 - p.best_name_rank as integer),
            '%Y%m%d') as name_source
    from people_ranked as p
    cross join feed_order as o
),
identity as (
    select
        p.*,
        if(cast(substr(p.citizen_id, 17, 1) as integer) % 2 = 1, '男', '女') as sex,
        strptime(substr(p.citizen_id, 7, 8), '%Y%m%d')::date as birth_date
    from people as p
),
feed_delivery as (
    -- the latest delivery in force per feed (the snapshot in force; for event feeds the newest)
    select feed, max(delivery_id) as delivery_id
    from intermediate.int_deliveries_in_force
    group by feed
),
joined as (
    select
        i.citizen_id,
        i.name,
        i.sex,
        i.birth_date,
        date_diff('year', i.birth_date, $reference_date)
            - if(strftime(i.birth_date, '%m%d') > strftime($reference_date, '%m%d'), 1, 0) as age,
        coalesce(h.person_status = '0', false) as in_hukou,
        h.hukou_district_code,
        h.household_no,
        h.hukou_address,
        h.ethnicity_code,
        r.citizen_id is not null as has_residence_registration,
        coalesce(r.registration_valid, false) as residence_registration_valid,
        -- where the person lives, best source first: the residence registration, the hukou address, then
        -- for people in neither register the county of their school, insurance or tax office
        case
            when r.citizen_id is not null then {'code': r.residence_district_code, 'source': r.delivery_id}
            when h.person_status = '0' then {'code': h.hukou_district_code, 'source': h.delivery_id}
            when coalesce(e.in_school, false) then {'code': e.school_district_code, 'source': fd_edu.delivery_id}
            when ins.contributing_recently then {'code': ins.insured_district_code, 'source': fd_ins.delivery_id}
            when t.taxed_recently then {'code': t.tax_district_code, 'source': fd_tax.delivery_id}
        end as known_district,
        coalesce(h.person_status = '1', false) as is_deceased,
        if(h.person_status = '1', h.status_change_date, null) as death_date,
        coalesce(h.person_status = '2', false) as moved_out,
        ms.marital_status as marital_status_from_events,
        ms.spouse_citizen_id as event_spouse_citizen_id,
        e.highest_education_code,
        coalesce(e.in_school, false) as in_school,
        coalesce(e.is_migrant_child, false) as is_migrant_child,
        coalesce(ins.pension_insured, false) as pension_insured,
        coalesce(ins.medical_insured, false) as medical_insured,
        coalesce(ins.insured_months, 0) as insured_months,
        coalesce(ins.receiving_pension, false) as receiving_pension,
        coalesce(t.income_last_12m, 0)::decimal(18, 2) as income_last_12m,
        coalesce(pr.property_units, 0) as property_units,
        i.source_feeds,
        i.name_source,
        ($sign_residence_registration and coalesce(r.registration_valid, false))
        or ($sign_insurance_contribution and coalesce(ins.contributing_recently, false))
        or ($sign_tax_withheld and coalesce(t.taxed_recently, false))
        or ($sign_school_enrolment and coalesce(e.in_school, false))
        or ($sign_pension_paid and coalesce(ins.receiving_pension, false)) as has_wenzhou_activity
    from identity as i
    left join intermediate.int_hukou_persons as h on pb_id_key(h.citizen_id) = i.id_key
    left join intermediate.int_residence_persons as r on pb_id_key(r.citizen_id) = i.id_key
    left join intermediate.int_education_persons as e on pb_id_key(e.citizen_id) = i.id_key
    left join intermediate.int_insurance_persons as ins on pb_id_key(ins.citizen_id) = i.id_key
    left join intermediate.int_tax_persons as t on pb_id_key(t.citizen_id) = i.id_key
    left join intermediate.int_marital_status as ms on pb_id_key(ms.citizen_id) = i.id_key
    left join intermediate.int_property_persons as pr on pb_id_key(pr.citizen_id) = i.id_key
    left join feed_delivery as fd_edu on fd_edu.feed = 'education'
    left join feed_delivery as fd_ins on fd_ins.feed = 'social_insurance'
    left join feed_delivery as fd_tax on fd_tax.feed = 'tax'
),
active_households as (
    -- hukou households with a member who shows a sign of activity of their own
    select distinct j.household_no
    from joined as j
    where j.in_hukou and j.has_wenzhou_activity and j.household_no is not null
),
counted as (
    select
        j.*,
        not j.is_deceased and not j.moved_out and (
            j.has_wenzhou_activity
            or (j.in_hukou and (
                not $hukou_requires_activity
                or (
                    (j.age < $hukou_exempt_under_age or j.age >= $hukou_exempt_from_age)
                    and (not $sign_household_member or ah.household_no is not null)
                )
            ))
        ) as is_actual_resident
    from joined as j
    left join active_households as ah on ah.household_no = j.household_no
)
select
    j.citizen_id,
    j.name,
    j.sex,
    j.birth_date,
    j.age,
    j.in_hukou,
    j.hukou_district_code,
    j.has_residence_registration,
    -- a residence only for people counted as living in the city
    if(j.is_actual_resident, j.known_district.code, null) as residence_district_code,
    j.is_deceased,
    j.death_date,
    j.moved_out,
    case
        when j.marital_status_from_events = '已婚' and spouse.person_status = '1' then '丧偶'
        else coalesce(j.marital_status_from_events, '未婚')
    end as marital_status,
    if(j.marital_status_from_events = '已婚' and coalesce(spouse.person_status, '0') <> '1',
        j.event_spouse_citizen_id, null) as spouse_citizen_id,
    j.highest_education_code,
    j.in_school,
    j.pension_insured,
    j.medical_insured,
    j.insured_months,
    j.receiving_pension,
    j.income_last_12m,
    j.property_units,
    j.is_actual_resident,
    j.source_feeds,
    j.ethnicity_code,
    j.household_no,
    j.hukou_address,
    j.is_migrant_child,
    j.residence_registration_valid,
    j.has_wenzhou_activity,
    j.name_source,
    if(j.is_actual_resident, j.known_district.source, null) as residence_source,
    $reference_date::date as reference_date
from counted as j
left join intermediate.int_hukou_persons as spouse on spouse.citizen_id = j.event_spouse_citizen_id;
drop table pb_person_ranks;
drop view pb_ranked_mentions;
