-- grain: one row per citizen ID in the education snapshot in force
-- depends: intermediate.int_deliveries_in_force
-- Highest attainment: the smallest GB/T 4658 code among graduations (11 博士 … 81 小学).
create or replace table intermediate.int_education_persons as
select
    e.citizen_id,
    min(e.attainment_code) filter (where e.student_status = '毕业') as highest_education_code,
    bool_or(e.student_status = '在读') as in_school,
    bool_or(e.student_status = '在读' and e.is_migrant_child = '是') as is_migrant_child,
    arg_max(e.school_district_code, e.enrolment_date) filter (where e.student_status = '在读')
        as school_district_code,
    arg_max(e.school_stage, e.enrolment_date) filter (where e.student_status = '在读') as school_stage
from staging.stg_education as e
inner join intermediate.int_deliveries_in_force as d on d.delivery_id = e.delivery_id
group by e.citizen_id;
