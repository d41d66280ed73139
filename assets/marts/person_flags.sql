-- grain: one row per consistency finding about a person in the base (person, flag, the row that raised it)
-- depends: marts.population_base, intermediate.int_person_mentions, intermediate.int_hukou_persons, intermediate.int_marital_events_ordered, intermediate.int_marriage_events_latest, intermediate.int_deliveries_in_force, raw.property, staging.stg_property
-- Flag codes of the warehouse contract. Details say what is inconsistent and what to check, without
-- personal data; the row is traceable through delivery_id, source_file and source_row.
-- A name folded for comparison: the middle-dot look-alikes become ·, whitespace (space, tab, newline,
-- form feed, carriage return, ideographic space) is deleted (translate drops characters it has no pair for).
create or replace macro pb_name_key(n) as
    translate(n, '.•・‧． ' || chr(9) || chr(10) || chr(12) || chr(13) || chr(12288), '·····');

create or replace table marts.person_flags as
with deaths as (
    select citizen_id, status_change_date as death_date
    from intermediate.int_hukou_persons
    where person_status = '1'
),
mentions as not materialized (
    -- not materialized: each consumer scans only the columns it needs from the table (at 10M persons
    -- a materialised copy of its 60M rows spilled and was read back five times: 87 s)
    select
        m.*,
        if(cast(substr(m.citizen_id, 17, 1) as integer) % 2 = 1, '男', '女') as id_sex,
        try_strptime(substr(m.citizen_id, 7, 8), '%Y%m%d')::date as id_birth_date
    from intermediate.int_person_mentions as m
),
register_names as (
    select citizen_id, feed, delivery_date, name
    from intermediate.int_person_mentions
    where feed in ('hukou', 'residence_permit') and nullif(trim(name), '') is not null
),
repeated_names as (
    select citizen_id from register_names group by citizen_id having count(*) > 1
),
reference_names as (
    -- the name the base trusts most: hukou, else residence registration. Only the IDs named more than once
    -- are ranked (at 10M persons ranking all 9.7M register names made this step 2-6 s slower).
    select citizen_id, feed as reference_feed, pb_name_key(name) as name_key
    from register_names
    anti join repeated_names using (citizen_id)
    union all
    select citizen_id, feed as reference_feed, pb_name_key(name) as name_key
    from register_names
    semi join repeated_names using (citizen_id)
    qualify row_number() over (partition by citizen_id order by feed = 'hukou' desc, delivery_date desc) = 1
),
marriages as (
    select * from intermediate.int_marriage_events_latest
),
sex_mismatch as (
    select
        citizen_id, 'SEX_MISMATCH' as flag_code, feed, delivery_id, source_file, source_row,
        '性别与身份证号码第17位不符 / reported sex ' || sex || ' contradicts the ID (' || id_sex
        || '): correct the sex or the ID' as detail
    from mentions
    where sex is not null and sex <> id_sex
),
birth_mismatch as (
    select
        citizen_id, 'BIRTH_DATE_MISMATCH', feed, delivery_id, source_file, source_row,
        '出生日期与身份证号码不符 / reported birth date differs from the date in the ID by '
        || abs(date_diff('day', birth_date, id_birth_date)) || ' days: correct the birth date or the ID'
    from mentions
    where birth_date is not null and id_birth_date is not null and birth_date <> id_birth_date
),
name_mismatch as (
    select
        m.citizen_id, 'NAME_MISMATCH', m.feed, m.delivery_id, m.source_file, m.source_row,
        '姓名与' || if(r.reference_feed = 'hukou', '户籍', '居住登记') || '登记不一致 / name differs from the '
        || if(r.reference_feed = 'hukou', 'hukou', 'residence') || ' registration (after folding '
        || 'middle dots and spaces): check for a typo, a traditional character or a wrong ID'
    from mentions as m
    inner join reference_names as r on r.citizen_id = m.citizen_id and r.reference_feed <> m.feed
    -- a name equal to the folded reference has nothing to fold: CASE folds only the others
    where nullif(trim(m.name), '') is not null
        and case when m.name = r.name_key then false else pb_name_key(m.name) <> r.name_key end
),
multiple_hukou as (
    select
        h.citizen_id, 'MULTIPLE_HUKOU', 'hukou', h.delivery_id, null::varchar, null::bigint,
        '一人多户 / registered in ' || h.household_count || ' households: keep one registration, cancel the others'
    from intermediate.int_hukou_persons as h
    where h.household_count > 1
),
activity_after_death as (
    select
        m.citizen_id, 'ACTIVITY_AFTER_DEATH', m.feed, m.delivery_id, m.source_file, m.source_row,
        '死亡后仍有业务记录 / activity dated ' || strftime(m.activity_date, '%Y-%m-%d')
        || ' after the death recorded in hukou on ' || strftime(d.death_date, '%Y-%m-%d')
        || ': check the ID on the record or the death registration'
    from mentions as m
    inner join deaths as d on d.citizen_id = m.citizen_id
    where m.activity_date > d.death_date
),
benefit_after_death as (
    select
        s.citizen_id, 'BENEFIT_AFTER_DEATH', 'social_insurance', s.delivery_id, s.source_file, s.source_row,
        '死亡人员待遇仍在发放 / benefit (险种 ' || s.insurance_type || ') still paid although hukou records '
        || 'a death on ' || strftime(d.death_date, '%Y-%m-%d') || ': stop payment and recover overpayments'
    from staging.stg_social_insurance as s
    inner join intermediate.int_deliveries_in_force as f on f.delivery_id = s.delivery_id
    inner join deaths as d on d.citizen_id = s.citizen_id
    where s.benefit_status = '1'
),
underage as (
    select
        citizen_id, 'UNDERAGE_MARRIAGE', 'marriage', delivery_id, source_file, source_row,
        '未达法定婚龄 / married at ' || age_at || ' (legal age ' || legal_age || '): check the ID or the record'
    from (
        select
            husband_citizen_id as citizen_id, delivery_id, source_file, source_row,
            date_diff('year', try_strptime(substr(husband_citizen_id, 7, 8), '%Y%m%d')::date, registration_date)
            - if(strftime(try_strptime(substr(husband_citizen_id, 7, 8), '%Y%m%d'), '%m%d')
                 > strftime(registration_date, '%m%d'), 1, 0) as age_at,
            $legal_marriage_age_men as legal_age
        from marriages where registration_type = '结婚登记'
        union all
        select
            wife_citizen_id, delivery_id, source_file, source_row,
            date_diff('year', try_strptime(substr(wife_citizen_id, 7, 8), '%Y%m%d')::date, registration_date)
            - if(strftime(try_strptime(substr(wife_citizen_id, 7, 8), '%Y%m%d'), '%m%d')
                 > strftime(registration_date, '%m%d'), 1, 0),
            $legal_marriage_age_women
        from marriages where registration_type = '结婚登记'
    )
    where age_at < legal_age
),
bigamy as (
    -- a marriage registered while an earlier marriage of the same person to someone else was neither
    -- dissolved (离婚登记/撤销婚姻 between the two) nor ended by the earlier spouse's death
    select
        later.citizen_id, 'BIGAMY', 'marriage', later.delivery_id, later.source_file, later.source_row,
        '重婚嫌疑 / married on ' || strftime(later.registration_date, '%Y-%m-%d')
        || ' while the marriage registered on ' || strftime(earlier.registration_date, '%Y-%m-%d')
        || ' was not dissolved: check both certificates'
    from intermediate.int_marital_events_ordered as later
    inner join intermediate.int_marital_events_ordered as earlier
        on earlier.citizen_id = later.citizen_id
        and earlier.event_order < later.event_order
        and earlier.partner_citizen_id <> later.partner_citizen_id
    left join deaths as d on d.citizen_id = earlier.partner_citizen_id
    where later.registration_type = '结婚登记'
        and earlier.registration_type = '结婚登记'
        and (d.death_date is null or d.death_date > later.registration_date)
        and not exists (
            select 1
            from intermediate.int_marital_events_ordered as ending
            where ending.citizen_id = earlier.citizen_id
                and ending.partner_citizen_id = earlier.partner_citizen_id
                and ending.registration_type <> '结婚登记'
                and ending.event_order > earlier.event_order
                and ending.event_order < later.event_order
        )
    qualify row_number() over (partition by later.citizen_id, later.certificate_no order by earlier.event_order) = 1
),
same_sex as (
    select
        unnest([husband_citizen_id, wife_citizen_id]) as citizen_id, 'SAME_SEX_MARRIAGE_RECORD', 'marriage',
        delivery_id, source_file, source_row,
        '双方身份证号码性别位相同 / both IDs on the certificate carry the same sex digit: check which ID is wrong'
    from marriages
    where cast(substr(husband_citizen_id, 17, 1) as integer) % 2 = cast(substr(wife_citizen_id, 17, 1) as integer) % 2
),
shares as (
    select p.*
    from staging.stg_property as p
    inner join intermediate.int_deliveries_in_force as f on f.delivery_id = p.delivery_id
    where p.co_ownership = '按份共有' and p.title_status = '现势'
),
incomplete_units as (
    -- units with an owner row of the same delivery in quarantine: their loaded shares are not all the
    -- shares, so the sum says nothing (the quarantined row is reported there, with its reason)
    select distinct r.delivery_id, trim(r.unit_no) as unit_no
    from raw.property as r
    inner join intermediate.int_deliveries_in_force as f on f.delivery_id = r.delivery_id
    inner join ops.quarantine as q
        on q.delivery_id = r.delivery_id and q.source_file = r.source_file and q.source_row = r.source_row
),
shares_not_100 as (
    select
        s.owner_citizen_id, 'SHARES_NOT_100', 'property', s.delivery_id, s.source_file, s.source_row,
        '按份共有份额合计不为100% / the shares of this unit add up to '
        || round(u.total * 100, 2) || '%: correct the shares of all co-owners'
    from shares as s
    inner join (
        select unit_no, sum(coalesce(share, 0)) as total from shares group by unit_no
    ) as u on u.unit_no = s.unit_no
    anti join incomplete_units as i on i.delivery_id = s.delivery_id and i.unit_no = s.unit_no
    where abs(u.total - 1) > $share_tolerance and s.owner_citizen_id is not null
),
not_in_backbone as (
    -- one finding per person and departmental feed that knows them, so each department hears of it
    select
        b.citizen_id, 'NOT_IN_BACKBONE', f.feed, null::varchar, null::varchar, null::bigint,
        '未在户籍或居住登记中 / appears in ' || array_to_string(b.source_feeds, ', ')
        || ' but in neither hukou nor residence registration: part of the actual population the registers miss'
    from marts.population_base as b, unnest(b.source_feeds) as f(feed)
    where not list_contains(b.source_feeds, 'hukou') and not list_contains(b.source_feeds, 'residence_permit')
),
all_flags as (
    select * from sex_mismatch
    union all select * from birth_mismatch
    union all select * from name_mismatch
    union all select * from multiple_hukou
    union all select * from activity_after_death
    union all select * from benefit_after_death
    union all select * from underage
    union all select * from bigamy
    union all select * from same_sex
    union all select * from shares_not_100
    union all select * from not_in_backbone
)
select
    citizen_id,
    flag_code,
    feed,
    detail,
    delivery_id,
    source_file,
    source_row
from all_flags;
