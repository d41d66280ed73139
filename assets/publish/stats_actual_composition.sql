-- Composition of the actual population (实有人口) of each county, and the registered persons of each
-- county who live elsewhere (人户分离). The four "living here" parts add up to actual_population.
CREATE OR REPLACE TABLE stats_actual_composition AS
WITH persons AS (
    SELECT hukou_district_code,
           CASE WHEN coalesce(is_actual_resident, false)
                THEN coalesce(residence_district_code, hukou_district_code) END AS living_county,
           coalesce(in_hukou, false)                   AS in_hukou,
           coalesce(has_residence_registration, false) AS has_registration
    FROM population_base
),
parts AS (
    SELECT living_county AS county_code,
           CASE WHEN in_hukou AND hukou_district_code = living_county THEN 'registered_living_here'
                WHEN in_hukou THEN 'registered_elsewhere_living_here'
                WHEN has_registration THEN 'floating_registered'
                ELSE 'active_unregistered' END AS part
    FROM persons
    WHERE living_county IS NOT NULL
    UNION ALL
    SELECT hukou_district_code, 'registered_living_elsewhere'
    FROM persons
    WHERE in_hukou AND living_county IS DISTINCT FROM hukou_district_code
)
SELECT parts.county_code,
       county.county_name,
       count(*) FILTER (WHERE part <> 'registered_living_elsewhere')      AS actual_population,
       count(*) FILTER (WHERE part = 'registered_living_here')            AS registered_living_here,
       count(*) FILTER (WHERE part = 'registered_elsewhere_living_here')  AS registered_elsewhere_living_here,
       count(*) FILTER (WHERE part = 'floating_registered')               AS floating_registered,
       count(*) FILTER (WHERE part = 'active_unregistered')               AS active_unregistered,
       count(*) FILTER (WHERE part = 'registered_living_elsewhere')       AS registered_living_elsewhere
FROM parts
LEFT JOIN county ON county.county_code = parts.county_code
GROUP BY ALL
ORDER BY parts.county_code;
