-- The early-warning windows of partition $day of features_arrival_days: one row per cohort
-- (ew_arrivals of the last horizon days), k = days since arrival. Delete-then-insert.
DELETE FROM arrival_days_windows WHERE end_day = $day;

INSERT INTO arrival_days_windows (window_id, arrival_day, end_day, k, n_users)
SELECT
    'arrival_days:' || strftime(arrival_day, '%Y-%m-%d') || '/'
    || strftime(CAST($day AS DATE), '%Y-%m-%d') AS window_id,
    arrival_day,
    CAST($day AS DATE) AS end_day,
    CAST(date_diff('day', arrival_day, CAST($day AS DATE)) + 1 AS INTEGER) AS k,
    count(*) AS n_users
FROM ew_arrivals
GROUP BY arrival_day;
