-- Registered, floating and actual population by county.
SELECT county_code, any_value(county_name) AS county_name,
       sum(registered_population) AS registered,
       sum(floating_population)   AS floating,
       sum(actual_population)     AS actual
FROM stats_population
WHERE county_code IS NOT NULL
GROUP BY county_code
ORDER BY county_code;
