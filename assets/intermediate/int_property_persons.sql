-- grain: one row per citizen ID owning or co-owning a current (现势) unit in the property snapshot in force
-- depends: intermediate.int_deliveries_in_force
create or replace table intermediate.int_property_persons as
select
    p.owner_citizen_id as citizen_id,
    count(distinct p.unit_no) as property_units
from staging.stg_property as p
inner join intermediate.int_deliveries_in_force as d on d.delivery_id = p.delivery_id
where p.owner_citizen_id is not null and p.title_status = '现势'
group by p.owner_citizen_id;
