-- Coverage indicators by county of residence.
SELECT county_code, county_name, pension_rate, medical_rate, enrolment_rate, migrant_enrolment_rate,
       home_ownership_rate
FROM stats_coverage
WHERE county_code IS NOT NULL
ORDER BY county_code;
