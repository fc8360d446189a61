-- Facts the checks of one day of calls ($day) judge, from the stored tables (SPEC §1): calls
-- stored, calls with a cell that is not in cells (cells_known), calls with a subscriber at one
-- end (linked_to_subscribers), the subscribers there are, and timed calls that start within a
-- second after the previous call of their caller and callee ended (partial_records: a long
-- call written as partial records; times on the whole minute are left out, a file stamped to
-- the minute ends one call and starts the next in the same minute), the timed calls (a
-- duration over 0) with their median duration (durations), and the calls that start at
-- midnight exactly (start_times: a date without its time of day read as midnight), and the
-- calls from and to a subscriber with and without that party's cell, with the cells stored
-- (located_sides: an export that logs one party's cell only).
WITH day_calls AS (
    SELECT
        *,
        lag(end_ts) OVER (PARTITION BY caller, callee ORDER BY start_ts) AS previous_end
    FROM calls
    WHERE call_date = $day
)

SELECT
    count(*) AS calls,
    count(*) FILTER (
        WHERE (c.caller_cell IS NOT NULL AND ca.cell_id IS NULL)
        OR (c.callee_cell IS NOT NULL AND cb.cell_id IS NULL)
    ) AS calls_unknown_cell,
    count(*) FILTER (
        WHERE sa.user_id IS NOT NULL OR sb.user_id IS NOT NULL
    ) AS calls_with_a_subscriber,
    (SELECT count(*) FROM subscribers) AS subscribers,
    count(*) FILTER (
        WHERE
            c.end_ts IS NOT NULL
            AND epoch(c.start_ts) - epoch(c.previous_end) BETWEEN 0 AND 1
            AND (second(c.start_ts) <> 0 OR second(c.previous_end) <> 0)
    ) AS calls_continuing,
    count(*) FILTER (WHERE c.duration_s > 0) AS timed_calls,
    median(c.duration_s) FILTER (WHERE c.duration_s > 0) AS median_duration_s,
    count(*) FILTER (WHERE c.start_ts = CAST(c.call_date AS TIMESTAMP)) AS calls_at_midnight,
    count(*) FILTER (WHERE sa.user_id IS NOT NULL) AS calls_from_a_subscriber,
    count(*) FILTER (
        WHERE sa.user_id IS NOT NULL AND c.caller_cell IS NULL
    ) AS calls_from_a_subscriber_without_cell,
    count(*) FILTER (WHERE sb.user_id IS NOT NULL) AS calls_to_a_subscriber,
    count(*) FILTER (
        WHERE sb.user_id IS NOT NULL AND c.callee_cell IS NULL
    ) AS calls_to_a_subscriber_without_cell,
    (SELECT count(*) FROM cells) AS cells
FROM day_calls AS c
LEFT JOIN cells AS ca ON ca.cell_id = c.caller_cell
LEFT JOIN cells AS cb ON cb.cell_id = c.callee_cell
LEFT JOIN subscribers AS sa ON sa.user_id = c.caller
LEFT JOIN subscribers AS sb ON sb.user_id = c.callee;
