-- grain: one row per (household, citizen ID) registered in the hukou snapshot in force
-- depends: intermediate.int_deliveries_in_force
-- Households (户) from hukou with each member's relation to the head (GB/T 4761); is_head for 02 户主.
create or replace table marts.households as
select
    h.household_no,
    h.citizen_id,
    h.relation_code,
    c.label as relation_label,
    h.relation_code = '02' as is_head,
    h.hukou_district_code,
    h.person_status
from staging.stg_hukou as h
inner join intermediate.int_deliveries_in_force as d on d.delivery_id = h.delivery_id
left join ref.code_lists as c on c.list_name = 'relation' and c.code = h.relation_code;
