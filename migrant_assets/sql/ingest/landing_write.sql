-- Append one batch of the landing step (after landing.sql and rejected_lines.sql) to the staged
-- tables ($landed_calls, $landed_files, $quarantine_landed_calls; landing_tables.sql, swapped
-- in by landing_swap.sql): its landed calls, its quarantined rows and the accounting of its
-- files ($files), with the rows dated outside the calendar by more than $far_days days (a time
-- misread: a unit or format that fits some rows only).
INSERT INTO $landed_calls BY NAME
SELECT
    day AS call_date,
    caller_number,
    callee_number,
    start_ts,
    end_ts,
    duration_s,
    caller_cell,
    callee_cell,
    side,
    file_id,
    _row AS row_number
FROM judged_landing
WHERE outcome = 'landed';
INSERT INTO $quarantine_landed_calls
SELECT
    j.outcome,
    f.file,
    j._row,
    j.record
FROM judged_landing AS j
INNER JOIN landing_file_ids AS f ON f.file_id = j.file_id
WHERE j.outcome NOT IN ('landed', 'not_a_call', 'outside_calendar');
INSERT INTO $quarantine_landed_calls SELECT * FROM rejected_lines;
INSERT INTO $landed_files BY NAME
SELECT
    f.file_id,
    f.file,
    coalesce(j.n, 0) + coalesce(r.n, 0) AS rows_read,
    coalesce(j.landed, 0) AS rows_landed,
    coalesce(j.quarantined, 0) + coalesce(r.n, 0) AS rows_quarantined,
    coalesce(j.not_a_call, 0) AS rows_not_a_call,
    coalesce(j.outside_calendar, 0) AS rows_outside_calendar,
    coalesce(j.far_outside_calendar, 0) AS rows_far_outside_calendar,
    j.first_day,
    j.last_day,
    j.first_day_far_outside,
    j.last_day_far_outside,
    coalesce(j.times_disagree, 0) AS rows_times_disagree
FROM landing_file_ids AS f
LEFT JOIN (
    SELECT
        file_id,
        count(*) AS n,
        count(*) FILTER (outcome = 'landed') AS landed,
        count(*) FILTER (outcome NOT IN ('landed', 'not_a_call', 'outside_calendar'))
            AS quarantined,
        count(*) FILTER (outcome = 'not_a_call') AS not_a_call,
        count(*) FILTER (outcome = 'outside_calendar') AS outside_calendar,
        count(*) FILTER (far) AS far_outside_calendar,
        min(day) FILTER (outcome = 'landed') AS first_day,
        max(day) FILTER (outcome = 'landed') AS last_day,
        min(day) FILTER (far) AS first_day_far_outside,
        max(day) FILTER (far) AS last_day_far_outside,
        count(*) FILTER (times_disagree) AS times_disagree
    FROM (
        SELECT
            *,
            outcome = 'outside_calendar' AND (
                day < $month_start - to_days($far_days) OR day > $month_end + to_days($far_days)
            ) AS far
        FROM judged_landing
    )
    GROUP BY file_id
) AS j ON j.file_id = f.file_id
LEFT JOIN (
    SELECT file, count(*) AS n FROM rejected_lines GROUP BY file
) AS r ON r.file = f.file
WHERE list_contains($files, f.file);
