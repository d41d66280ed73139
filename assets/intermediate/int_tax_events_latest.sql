-- grain: one row per tax natural key (证件类型, 证件号码, 所得期间, 所得项目, 扣缴义务人) up to the reference date
-- depends: intermediate.int_deliveries_in_force
-- Events re-sent in a later delivery as corrections: the latest delivery wins.
create or replace table intermediate.int_tax_events_latest as
select t.*
from staging.stg_tax as t
inner join intermediate.int_deliveries_in_force as d on d.delivery_id = t.delivery_id
where t.income_period <= $reference_date
qualify row_number() over (
    partition by t.id_type, t.id_number, t.income_period, t.income_item, t.agent_credit_code
    order by t.delivery_date desc
) = 1;
