-- grain: one row per citizen ID with income tax withheld in the income periods the base looks at
-- depends: intermediate.int_tax_events_latest
-- The base looks at the 12 income periods up to the reference date's month (income_last_12m) and at the
-- actual-population window (taxed_recently, and then tax_district_code: the county of the tax office of the
-- latest income period). Only those periods are read, so this step reads about a year of events however many
-- months of tax deliveries are kept (measured over 24 monthly runs at 1M persons: it grew from 0.5 to 1.3 s
-- reading all of them; benchmarks/results/two_years). Income periods after the reference date do not count.
create or replace table intermediate.int_tax_persons as
select
    citizen_id,
    sum(income_amount) filter (
        where income_period > date_trunc('month', $reference_date) - interval 12 month
    ) as income_last_12m,
    bool_or(income_period > $reference_date - to_months($window_months)) as taxed_recently,
    arg_max(tax_office_district_code, income_period) as tax_district_code
from intermediate.int_tax_events_latest
where citizen_id is not null
    and income_period <= $reference_date
    and income_period > least(
        date_trunc('month', $reference_date) - interval 12 month,
        $reference_date - to_months($window_months)
    )
group by citizen_id;
