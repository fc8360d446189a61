-- The early-warning feature rows of the windows ending on $day (features_arrival_days), with
-- each user's arrival day and k, ordered by user.
SELECT w.arrival_day, w.k, f.*
FROM features_arrival_days AS f
JOIN arrival_days_windows AS w ON w.window_id = f.window_id
WHERE w.end_day = $day
ORDER BY f.user_id;
