-- grain: one row per person party to any marriage registration up to the reference date
-- depends: intermediate.int_marital_events_ordered
-- The latest registration decides: 结婚登记 → 已婚 with that partner; 离婚登记 → 离婚; 撤销婚姻 (annulment)
-- → 离婚 when the person had married before, else 未婚. A spouse's death (丧偶) is applied in population_base.
create or replace table intermediate.int_marital_status as
with latest as (
    select *
    from intermediate.int_marital_events_ordered
    qualify row_number() over (partition by citizen_id order by event_order desc) = 1
),
marriages as (
    select citizen_id, count(*) as marriages
    from intermediate.int_marital_events_ordered
    where registration_type = '结婚登记'
    group by citizen_id
)
select
    l.citizen_id,
    case
        when l.registration_type = '结婚登记' then '已婚'
        when l.registration_type = '离婚登记' then '离婚'
        when coalesce(m.marriages, 0) > 1 then '离婚'
        else '未婚'
    end as marital_status,
    case when l.registration_type = '结婚登记' then l.partner_citizen_id end as spouse_citizen_id,
    l.registration_date as marital_status_since
from latest as l
left join marriages as m on m.citizen_id = l.citizen_id;
