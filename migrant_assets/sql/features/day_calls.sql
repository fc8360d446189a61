-- Calls of each day of $start..$end that has any (features.sum_window splits a window's days
-- into passes of at most duckdb.max_calls_per_pass calls). Bookkeeping, not feature SQL.
SELECT call_date, COUNT(*) AS n_calls
FROM calls
WHERE call_date BETWEEN $start AND $end
GROUP BY call_date
ORDER BY call_date;
