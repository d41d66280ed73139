-- population_as_of(d): the population_history rows valid on date d (valid_to is exclusive).
-- Macros do not travel with copied tables, so the publish step creates this in each published file.
CREATE OR REPLACE MACRO population_as_of(d) AS TABLE
SELECT *
FROM population_history
WHERE valid_from <= CAST(d AS DATE)
  AND (valid_to IS NULL OR valid_to > CAST(d AS DATE));
