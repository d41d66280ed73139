-- The first period of events the working file keeps: $keep_months months before the reference date's month,
-- and never later than what the base reads (the 12 income periods up to that month and the actual-population
-- window). One row, one date.
select least(
    date_trunc('month', $reference_date) - to_months($keep_months),
    date_trunc('month', $reference_date) - interval 12 month,
    date_trunc('month', $reference_date - to_months($window_months))
)::date as kept_from;
