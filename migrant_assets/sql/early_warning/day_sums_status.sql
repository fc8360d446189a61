-- The days $first..$day whose stored daily sums (arrival_days_daily_sums) are missing or stale:
-- summed for another province, from another number of calls, another version of the day's
-- `calls` partition (built_from: a day file corrected with as many calls) or other inputs
-- ($inputs: sums_key.sql now). With each day's calls now, and the inputs to store with its sums.
WITH days AS (
    SELECT CAST(unnest(generate_series(CAST($first AS DATE), CAST($day AS DATE), INTERVAL 1 DAY))
        AS DATE) AS call_date
),
landed AS (
    SELECT call_date, count(*) AS n_calls
    FROM calls
    WHERE call_date BETWEEN $first AND $day
    GROUP BY call_date
),
now AS (
    SELECT
        d.call_date,
        coalesce(l.n_calls, 0) AS n_calls,
        concat($inputs, ':', v.version) AS inputs
    FROM days AS d
    LEFT JOIN landed AS l ON l.call_date = d.call_date
    LEFT JOIN built_from AS v ON v.asset = 'calls' AND v.part = CAST(d.call_date AS VARCHAR)
)
SELECT n.call_date, n.n_calls, n.inputs
FROM now AS n
LEFT JOIN arrival_days_daily_sums AS s
    ON s.call_date = n.call_date
    AND s.province IS NOT DISTINCT FROM $province
    AND s.n_calls = n.n_calls
    AND s.inputs IS NOT DISTINCT FROM n.inputs
WHERE s.call_date IS NULL
ORDER BY n.call_date;
