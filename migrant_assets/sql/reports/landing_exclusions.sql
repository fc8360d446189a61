-- What the mapping's rules left out of the calls files (landed_files): files read, rows read,
-- rows that are not calls, rows dated outside the study calendar.
SELECT count(*) AS files,
       coalesce(sum(rows_read), 0) AS rows_read,
       coalesce(sum(rows_not_a_call), 0) AS rows_not_a_call,
       coalesce(sum(rows_outside_calendar), 0) AS rows_outside_calendar
FROM landed_files;
