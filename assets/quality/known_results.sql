-- Stored outcomes a staging suite can take instead of running its rules again
-- (pipelines/lib/quality/known_results.py): for each (rule_key, batch_key, date_key) asked for, the newest
-- outcome computed without error. $rule_keys and $batch_keys narrow the read; the caller matches all three.
select
    r.rule_key,
    r.batch_key,
    r.date_key,
    r.elements,
    r.unexpected,
    r.rate,
    r.passed,
    r.gx_success,
    r.examples,
    coalesce(r.computed_in_run, r.run_id) as computed_in_run
from quality.expectation_results as r
where r.suite = $suite
  and list_contains($rule_keys, r.rule_key)
  and list_contains($batch_keys, r.batch_key)
  and r.error is null
  and r.gx_success is not null
qualify row_number() over (partition by r.rule_key, r.batch_key, r.date_key order by r.run_at desc) = 1
