-- The landed calls by hour of the city's day (0..23, start_ts is local time), for the
-- time_of_day check: a day's quietest hours are at night wherever people call.
SELECT list(coalesce(c.n, 0) ORDER BY h.hour ASC) AS calls_by_hour
FROM range(24) AS h (hour)
LEFT JOIN (
    SELECT
        hour(start_ts) AS hour,
        count(*) AS n
    FROM landed_calls
    GROUP BY 1
) AS c ON h.hour = c.hour;
