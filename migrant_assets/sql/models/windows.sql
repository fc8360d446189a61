-- The windows that have rows in `features`.
SELECT DISTINCT window_id FROM features ORDER BY window_id;
