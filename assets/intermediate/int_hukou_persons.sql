-- grain: one row per citizen ID in the hukou snapshot in force
-- depends: intermediate.int_deliveries_in_force
-- When one ID is registered in several households (一人多户, flagged MULTIPLE_HUKOU), the registration
-- with status normal, then the lowest household number, represents the person; household_count keeps
-- the number of households.
create or replace table intermediate.int_hukou_persons as
with current_rows as (
    select h.*
    from staging.stg_hukou as h
    inner join intermediate.int_deliveries_in_force as d on d.delivery_id = h.delivery_id
),
ranked as (
    select
        *,
        count(*) over (partition by citizen_id) as household_count,
        row_number() over (partition by citizen_id order by person_status, household_no) as preference
    from current_rows
)
select
    citizen_id,
    delivery_id,
    delivery_date,
    name,
    ethnicity_code,
    household_no,
    relation_code,
    hukou_district_code,
    hukou_address,
    former_hukou_nature,
    person_status,
    status_change_date,
    household_count
from ranked
where preference = 1;
