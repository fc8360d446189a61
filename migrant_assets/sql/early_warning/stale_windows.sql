-- Feature rows and graphs of partition $day of features_arrival_days whose cohort is gone (a
-- day re-run with other calls): deleted with the partition's windows before they are rebuilt.
DELETE FROM features_arrival_days
WHERE window_id IN (SELECT window_id FROM arrival_days_windows WHERE end_day = $day);
DELETE FROM arrival_days_graph
WHERE window_id IN (SELECT window_id FROM arrival_days_windows WHERE end_day = $day);
