-- Replace the landed calls, the landing's quarantined rows and the per-file accounting (after
-- landing.sql and rejected_lines.sql; inside one transaction).
DELETE FROM landed_calls;
INSERT INTO landed_calls
SELECT
    day, caller_number, callee_number, start_ts, end_ts, duration_s, caller_cell, callee_cell,
    _file, _row
FROM judged_landing
WHERE outcome = 'landed';
DELETE FROM quarantine_landed_calls;
INSERT INTO quarantine_landed_calls
SELECT
    outcome,
    _file,
    _row,
    CAST(to_json({
        caller: caller_number, callee: callee_number, start_ts: start_shown, end_ts: end_shown,
        duration: duration_shown, caller_cell: caller_cell_shown, callee_cell: callee_cell_shown,
        event_type: event_shown
    }) AS VARCHAR)
FROM judged_landing
WHERE outcome NOT IN ('landed', 'not_a_call', 'outside_calendar');
INSERT INTO quarantine_landed_calls SELECT * FROM rejected_lines;
DELETE FROM landed_files;
INSERT INTO landed_files
SELECT
    f.file,
    coalesce(j.n, 0) + coalesce(r.n, 0),
    coalesce(j.landed, 0),
    coalesce(j.quarantined, 0) + coalesce(r.n, 0),
    coalesce(j.not_a_call, 0),
    coalesce(j.outside_calendar, 0),
    j.first_day,
    j.last_day
FROM (SELECT unnest($files) AS file) AS f
LEFT JOIN (
    SELECT
        _file AS file,
        count(*) AS n,
        count(*) FILTER (outcome = 'landed') AS landed,
        count(*) FILTER (outcome NOT IN ('landed', 'not_a_call', 'outside_calendar'))
            AS quarantined,
        count(*) FILTER (outcome = 'not_a_call') AS not_a_call,
        count(*) FILTER (outcome = 'outside_calendar') AS outside_calendar,
        min(day) FILTER (outcome = 'landed') AS first_day,
        max(day) FILTER (outcome = 'landed') AS last_day
    FROM judged_landing
    GROUP BY ALL
) AS j USING (file)
LEFT JOIN (
    SELECT file, count(*) AS n FROM rejected_lines GROUP BY ALL
) AS r USING (file);
