-- grain: one row per citizen ID with income tax withheld up to the reference date
-- depends: intermediate.int_tax_events_latest
-- Income periods after the reference date do not count.
-- income_last_12m sums 收入额 over the 12 income periods up to the reference date's month;
-- tax_district_code is the county of the tax office of the latest income period.
create or replace table intermediate.int_tax_persons as
select
    citizen_id,
    sum(income_amount) filter (
        where income_period > date_trunc('month', $reference_date) - interval 12 month
    ) as income_last_12m,
    max(income_period) as last_income_period,
    bool_or(income_period > $reference_date - to_months($window_months)) as taxed_recently,
    arg_max(tax_office_district_code, income_period) as tax_district_code
from intermediate.int_tax_events_latest
where citizen_id is not null and income_period <= $reference_date
group by citizen_id;
