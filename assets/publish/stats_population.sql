-- Registered, floating and actual population by county × sex × five-year age band.
-- Registered (户籍人口): in_hukou, counted at the hukou county. Floating (流动人口): a residence
-- registration and not in hukou, alive, counted at the residence county. Actual (实有人口):
-- is_actual_resident, counted at the residence county, or the hukou county when that is unknown.
CREATE OR REPLACE TABLE stats_population AS
WITH persons AS (
    SELECT sex, age, hukou_district_code, residence_district_code,
           coalesce(in_hukou, false)                   AS in_hukou,
           coalesce(has_residence_registration, false) AS has_registration,
           coalesce(is_actual_resident, false)         AS is_actual,
           coalesce(is_deceased, false)                AS is_deceased
    FROM population_base
    WHERE age IS NOT NULL
),
counted AS (
    SELECT hukou_district_code AS county_code, sex, age, 'registered' AS population
    FROM persons WHERE in_hukou
    UNION ALL
    SELECT residence_district_code, sex, age, 'floating'
    FROM persons WHERE has_registration AND NOT in_hukou AND NOT is_deceased
    UNION ALL
    SELECT coalesce(residence_district_code, hukou_district_code), sex, age, 'actual'
    FROM persons WHERE is_actual
),
banded AS (
    SELECT county_code, sex, population,
           CASE WHEN age >= 85 THEN '85+'
                ELSE printf('%02d-%02d', age // 5 * 5, age // 5 * 5 + 4) END AS age_band
    FROM counted
)
SELECT banded.county_code,
       county.county_name,
       banded.sex,
       banded.age_band,
       count(*) FILTER (WHERE population = 'registered') AS registered_population,
       count(*) FILTER (WHERE population = 'floating')   AS floating_population,
       count(*) FILTER (WHERE population = 'actual')     AS actual_population
FROM banded
LEFT JOIN county ON county.county_code = banded.county_code
GROUP BY ALL
ORDER BY banded.county_code, banded.sex, banded.age_band;
