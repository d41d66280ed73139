-- Coverage indicators of the actual population by county of residence:
-- pension and medical insurance among residents aged 16-59, school enrolment of children aged 6-15
-- (and of migrant children, 随迁子女), home ownership (property_units > 0) among residents aged 18+.
CREATE OR REPLACE TABLE stats_coverage AS
WITH residents AS (
    SELECT coalesce(residence_district_code, hukou_district_code) AS county_code,
           age,
           coalesce(pension_insured, false)  AS pension_insured,
           coalesce(medical_insured, false)  AS medical_insured,
           coalesce(in_school, false)        AS in_school,
           coalesce(is_migrant_child, false) AS is_migrant_child,
           coalesce(property_units, 0) > 0   AS owns_home
    FROM population_base
    WHERE coalesce(is_actual_resident, false) AND age IS NOT NULL
),
counts AS (
    SELECT county_code,
           count(*) FILTER (WHERE age BETWEEN 16 AND 59)                                   AS working_age_residents,
           count(*) FILTER (WHERE age BETWEEN 16 AND 59 AND pension_insured)               AS pension_insured,
           count(*) FILTER (WHERE age BETWEEN 16 AND 59 AND medical_insured)               AS medical_insured,
           count(*) FILTER (WHERE age BETWEEN 6 AND 15)                                    AS children_6_15,
           count(*) FILTER (WHERE age BETWEEN 6 AND 15 AND in_school)                      AS children_in_school,
           count(*) FILTER (WHERE age BETWEEN 6 AND 15 AND is_migrant_child)               AS migrant_children_6_15,
           count(*) FILTER (WHERE age BETWEEN 6 AND 15 AND is_migrant_child AND in_school) AS migrant_children_in_school,
           count(*) FILTER (WHERE age >= 18)                                               AS adult_residents,
           count(*) FILTER (WHERE age >= 18 AND owns_home)                                 AS home_owners
    FROM residents
    GROUP BY county_code
)
SELECT counts.county_code,
       county.county_name,
       working_age_residents,
       pension_insured,
       round(pension_insured / nullif(working_age_residents, 0), 4)              AS pension_rate,
       medical_insured,
       round(medical_insured / nullif(working_age_residents, 0), 4)              AS medical_rate,
       children_6_15,
       children_in_school,
       round(children_in_school / nullif(children_6_15, 0), 4)                   AS enrolment_rate,
       migrant_children_6_15,
       migrant_children_in_school,
       round(migrant_children_in_school / nullif(migrant_children_6_15, 0), 4)   AS migrant_enrolment_rate,
       adult_residents,
       home_owners,
       round(home_owners / nullif(adult_residents, 0), 4)                        AS home_ownership_rate
FROM counts
LEFT JOIN county ON county.county_code = counts.county_code
ORDER BY counts.county_code;
