-- The training matrix of the risk model of k days: the features of each training user's first
-- $k days (the window from her arrival day to arrival + $k - 1) beside her outcome
-- (ew_outcomes, outcomes.sql), ordered by user.
SELECT o.user_id, o.arrival_day, o.last_call_day, o.leaving, f.* EXCLUDE (user_id)
FROM ew_outcomes AS o
JOIN arrival_days_windows AS w ON w.arrival_day = o.arrival_day AND w.k = $k
JOIN features_arrival_days AS f ON f.window_id = w.window_id AND f.user_id = o.user_id
ORDER BY o.user_id;
