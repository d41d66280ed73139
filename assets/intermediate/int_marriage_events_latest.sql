-- grain: one row per marriage registration certificate up to the reference date
-- depends: intermediate.int_deliveries_in_force
-- A certificate re-sent in a later delivery: the latest delivery wins.
create or replace table intermediate.int_marriage_events_latest as
select m.*
from staging.stg_marriage as m
inner join intermediate.int_deliveries_in_force as d on d.delivery_id = m.delivery_id
where m.registration_date <= $reference_date
qualify row_number() over (partition by m.certificate_no order by m.delivery_date desc) = 1;
