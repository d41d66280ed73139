-- Actual population by five-year age band and sex (the population pyramid).
SELECT age_band,
       sum(actual_population) FILTER (WHERE sex = '男') AS male,
       sum(actual_population) FILTER (WHERE sex = '女') AS female
FROM stats_population
GROUP BY age_band
ORDER BY age_band;
