-- Suggested corrections for ID_CHECKSUM rows of one delivery: every single-character change of the 18
-- whose result has a valid check character AND is a citizen ID the hukou or residence registers have held
-- (marts.population_history: every snapshot up to the reference date, kept incrementally, so its size follows
-- the people and not the number of months kept). Set-based: 18 positions x 11 characters per row, joined to
-- those IDs, then checksummed.
with q as (
  select source_file, source_row, upper(regexp_replace(offending_value, '[^0-9Xx]', '', 'g')) as v
  from ops.quarantine
  where delivery_id = $delivery_id and reason_code = 'ID_CHECKSUM'
),
candidates as (
  select q.source_file, q.source_row, substr(q.v, 1, p - 1) || c || substr(q.v, p + 1) as candidate
  from q, range(1, 19) as pos(p), unnest(['0','1','2','3','4','5','6','7','8','9','X']) as ch(c)
  where length(q.v) = 18 and c <> substr(q.v, p, 1) and (c <> 'X' or p = 18)
),
matched as (
  select c.* from candidates c semi join marts.population_history h on h.citizen_id = c.candidate
)
select source_file, source_row, string_agg(candidate, ' / ' order by candidate) as suggestions
from matched
where substr(candidate, 18, 1) = substr('10X98765432', 1 + cast(list_sum(list_transform(range(17),
  lambda i: (ascii(substr(candidate, i + 1, 1)) - 48) * [7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2][i + 1])) % 11 as integer), 1)
group by source_file, source_row
