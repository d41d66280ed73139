-- grain: one row per delivered source row that did not make it into the base, with its reason
-- depends: intermediate.int_deliveries_in_force
-- materialized: view
-- Every quarantined row of every delivery that is not superseded (rejected deliveries have none).
-- A view over ops.quarantine: its one reader, publish, writes it into the full file; as a table it copied
-- every delivery's quarantined rows again each run (1M persons, month 24: 434k rows, 0.9-1.7 s).
create or replace view marts.quarantine as
select
    q.feed,
    q.delivery_date,
    q.source_file,
    q.source_row,
    q.reason_code,
    q.detail,
    q.raw_record,
    q.column_name,
    q.offending_value,
    q.delivery_id
from ops.quarantine as q
inner join ops.deliveries as d on d.delivery_id = q.delivery_id
where d.status = 'loaded';
