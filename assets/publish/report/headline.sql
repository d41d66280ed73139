-- Headline numbers of the report, from the statistics marts of a published file.
SELECT
    (SELECT sum(actual_population) FROM stats_actual_composition)              AS actual_population,
    (SELECT sum(registered_population) FROM stats_population)                   AS registered_population,
    (SELECT sum(floating_population) FROM stats_population)                     AS floating_population,
    (SELECT sum(registered_living_elsewhere) FROM stats_actual_composition)     AS registered_living_elsewhere,
    (SELECT count(*) FROM population_base)                                      AS persons_in_base,
    (SELECT max(reference_date) FROM publication)                               AS reference_date,
    (SELECT max(published_at) FROM publication)                                 AS published_at;
