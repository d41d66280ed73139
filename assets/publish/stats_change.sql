-- Change by county between the last two snapshots of population_history. A snapshot date is any date
-- on which an interval starts or ends; the state on a date is the rows valid on it (as population_as_of).
CREATE OR REPLACE TABLE stats_change AS
WITH dates AS (
    SELECT valid_from AS d FROM population_history
    UNION
    SELECT valid_to FROM population_history WHERE valid_to IS NOT NULL
),
snapshots AS (
    SELECT max(d) AS latest,
           max(d) FILTER (WHERE d < (SELECT max(d) FROM dates)) AS previous
    FROM dates
),
latest_state AS (
    SELECT h.* FROM population_history AS h, snapshots AS s
    WHERE h.valid_from <= s.latest AND (h.valid_to IS NULL OR h.valid_to > s.latest)
),
previous_state AS (
    SELECT h.* FROM population_history AS h, snapshots AS s
    WHERE h.valid_from <= s.previous AND (h.valid_to IS NULL OR h.valid_to > s.previous)
),
paired AS (
    SELECT CASE WHEN p.citizen_id IS NULL THEN coalesce(l.residence_district_code, l.hukou_district_code)
                WHEN l.citizen_id IS NULL THEN coalesce(p.residence_district_code, p.hukou_district_code)
                ELSE coalesce(l.residence_district_code, l.hukou_district_code) END AS county_code,
           CASE WHEN p.citizen_id IS NULL THEN 'new'
                WHEN l.citizen_id IS NULL THEN 'gone'
                WHEN l.in_hukou IS DISTINCT FROM p.in_hukou
                  OR l.hukou_district_code IS DISTINCT FROM p.hukou_district_code
                  OR l.has_residence_registration IS DISTINCT FROM p.has_residence_registration
                  OR l.residence_district_code IS DISTINCT FROM p.residence_district_code
                  OR l.is_deceased IS DISTINCT FROM p.is_deceased
                  OR l.moved_out IS DISTINCT FROM p.moved_out THEN 'changed'
                ELSE 'unchanged' END AS change
    FROM latest_state AS l
    FULL OUTER JOIN previous_state AS p ON l.citizen_id = p.citizen_id
)
SELECT paired.county_code,
       county.county_name,
       s.previous AS previous_snapshot,
       s.latest   AS latest_snapshot,
       count(*) FILTER (WHERE change = 'new')       AS persons_new,
       count(*) FILTER (WHERE change = 'gone')      AS persons_gone,
       count(*) FILTER (WHERE change = 'changed')   AS persons_changed,
       count(*) FILTER (WHERE change = 'unchanged') AS persons_unchanged
FROM paired
CROSS JOIN snapshots AS s
LEFT JOIN county ON county.county_code = paired.county_code
WHERE s.previous IS NOT NULL
GROUP BY ALL
ORDER BY paired.county_code;
