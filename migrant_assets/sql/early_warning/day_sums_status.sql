-- The days $first..$day whose stored daily sums (arrival_days_daily_sums) are missing or stale:
-- summed for another province, from another number of calls (a re-ingested day) or other
-- inputs ($inputs: sums_key.sql now). With each day's calls now.
WITH days AS (
    SELECT CAST(unnest(generate_series(CAST($first AS DATE), CAST($day AS DATE), INTERVAL 1 DAY))
        AS DATE) AS call_date
),
landed AS (
    SELECT call_date, count(*) AS n_calls
    FROM calls
    WHERE call_date BETWEEN $first AND $day
    GROUP BY call_date
)
SELECT d.call_date, coalesce(l.n_calls, 0) AS n_calls
FROM days AS d
LEFT JOIN landed AS l ON l.call_date = d.call_date
LEFT JOIN arrival_days_daily_sums AS s
    ON s.call_date = d.call_date
    AND s.province IS NOT DISTINCT FROM $province
    AND s.n_calls = coalesce(l.n_calls, 0)
    AND s.inputs IS NOT DISTINCT FROM $inputs
WHERE s.call_date IS NULL
ORDER BY d.call_date;
