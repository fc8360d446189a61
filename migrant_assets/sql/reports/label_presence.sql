-- Which study groups have users at all (the report and the summary say which sections are
-- unavailable and why). Counts of zero or more; nothing here is published.
SELECT count(integration_label) AS integration,
       count(departure_label) AS departure,
       count(*) FILTER (integration_label = 'local') AS integration_local,
       count(*) FILTER (departure_label = 'local') AS departure_local,
       count(*) FILTER (departure_label = 'leaving_migrant') AS leaving_migrant,
       count(*) FILTER (departure_label = 'staying_migrant') AS staying_migrant,
       count(*) FILTER (integration_label = 'settled_migrant') AS settled_migrant,
       count(*) FILTER (integration_label = 'new_migrant') AS new_migrant
FROM user_labels;
