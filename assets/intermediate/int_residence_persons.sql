-- grain: one row per citizen ID in the residence-registration snapshot in force
-- depends: intermediate.int_deliveries_in_force
-- A registration is valid on the reference date unless its permit has expired by then.
create or replace table intermediate.int_residence_persons as
select
    r.citizen_id,
    any_value(r.delivery_id) as delivery_id,
    any_value(r.delivery_date) as delivery_date,
    any_value(r.name) as name,
    any_value(r.residence_district_code) as residence_district_code,
    any_value(r.residence_address) as residence_address,
    any_value(r.registration_date) as registration_date,
    any_value(r.permit_no) as permit_no,
    any_value(r.permit_valid_until) as permit_valid_until,
    bool_or(r.permit_valid_until is null or r.permit_valid_until >= $reference_date) as registration_valid
from staging.stg_residence_permit as r
inner join intermediate.int_deliveries_in_force as d on d.delivery_id = r.delivery_id
group by r.citizen_id;
