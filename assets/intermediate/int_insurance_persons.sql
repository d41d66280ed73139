-- grain: one row per citizen ID in the social-insurance snapshot in force
-- depends: intermediate.int_deliveries_in_force
-- Pension schemes: 110, 120, 170; medical schemes: 310, 390. Active = 参保缴费 (status 1).
-- A contribution is recent when the last month paid lies within the activity window.
create or replace table intermediate.int_insurance_persons as
select
    s.citizen_id,
    bool_or(s.insurance_type in ('110', '120', '170') and s.insured_status = '1') as pension_insured,
    bool_or(s.insurance_type in ('310', '390') and s.insured_status = '1') as medical_insured,
    max(s.months_paid) as insured_months,
    bool_or(s.insurance_type in ('110', '120', '170') and s.benefit_status = '1') as receiving_pension,
    max(s.last_paid_month) as last_paid_month,
    bool_or(
        s.insured_status = '1'
        and s.last_paid_month > $reference_date - to_months($window_months)
    ) as contributing_recently,
    arg_max(s.insured_district_code, s.last_paid_month) as insured_district_code
from staging.stg_social_insurance as s
inner join intermediate.int_deliveries_in_force as d on d.delivery_id = s.delivery_id
group by s.citizen_id;
