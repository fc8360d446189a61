-- The days with at least one landed call (calendar_coverage check).
SELECT DISTINCT call_date FROM landed_calls ORDER BY call_date;
