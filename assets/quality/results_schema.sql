-- The quality schema's tables, kept across runs (pipelines/lib/quality/results_table.py). Idempotent.
create schema if not exists quality;
create table if not exists quality.expectation_results (
  run_id varchar, run_at timestamp, suite varchar, table_name varchar, rule varchar, feed varchar,
  dimension varchar, measure varchar, severity varchar, blocking boolean, elements bigint, unexpected bigint,
  rate double, threshold double, passed boolean, error varchar);
-- working files from before outcomes were taken from earlier runs (pipelines/lib/quality/known_results.py)
alter table quality.expectation_results add column if not exists gx_success boolean;
alter table quality.expectation_results add column if not exists examples varchar;
alter table quality.expectation_results add column if not exists rule_key varchar;
alter table quality.expectation_results add column if not exists batch_key varchar;
alter table quality.expectation_results add column if not exists date_key date;
alter table quality.expectation_results add column if not exists computed_in_run varchar;
create table if not exists quality.scorecard (
  run_id varchar, run_at timestamp, feed varchar, delivery_id varchar, delivery_date date, dimension varchar,
  rate double, threshold double, passed boolean, rules integer, rules_failed integer);
comment on column quality.expectation_results.examples is 'JSON list of masked examples of unexpected values or rows';
comment on column quality.expectation_results.rule_key is 'fingerprint of the rule and the code that ran it; null: never taken by a later run';
comment on column quality.expectation_results.batch_key is 'row count and row-hash sum of the rows checked (and the delivery, for rules naming provenance columns)';
comment on column quality.expectation_results.date_key is 'the reference date, for rules that use it';
comment on column quality.expectation_results.computed_in_run is 'the run whose check computed this outcome: another run when it was taken from there';
