-- The days with at least one landed call and their calls (calendar_coverage check).
SELECT call_date, count(*) AS calls FROM landed_calls GROUP BY call_date ORDER BY call_date;
