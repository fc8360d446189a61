-- The landing step's files (landed_files): how many, rows read and rows dated outside the
-- calendar, the first and last day landed; and the days of landed_calls (calendar coverage).
SELECT
    count(*) AS files,
    coalesce(sum(rows_read), 0) AS rows_read,
    coalesce(sum(rows_outside_calendar), 0) AS rows_outside_calendar,
    min(first_day) AS first_day,
    max(last_day) AS last_day,
    (SELECT count(*) FROM landed_calls) AS rows_landed
FROM landed_files;
