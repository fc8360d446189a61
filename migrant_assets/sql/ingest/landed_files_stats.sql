-- The landing step's files (landed_files): how many, rows read and rows dated outside the
-- calendar (far outside: their first and last day, and the first three files with most), the
-- first and last day landed; the days of landed_calls (calendar coverage); the landed calls
-- whose end and duration disagree.
SELECT
    count(*) AS files,
    coalesce(sum(rows_read), 0) AS rows_read,
    coalesce(sum(rows_outside_calendar), 0) AS rows_outside_calendar,
    coalesce(sum(rows_far_outside_calendar), 0) AS rows_far_outside_calendar,
    min(first_day_far_outside) AS first_day_far_outside,
    max(last_day_far_outside) AS last_day_far_outside,
    (list(file ORDER BY rows_far_outside_calendar DESC, file_id ASC)
        FILTER (rows_far_outside_calendar > 0))[1:3] AS files_far_outside,
    min(first_day) AS first_day,
    max(last_day) AS last_day,
    (SELECT count(*) FROM landed_calls) AS rows_landed,
    coalesce(sum(rows_times_disagree), 0) AS rows_times_disagree
FROM landed_files;
