-- Featurised users of window $window_id per label ('unlabelled' when the user has none).
SELECT coalesce(label, 'unlabelled') AS label, count(*) AS n_users
FROM features
WHERE window_id = $window_id
GROUP BY coalesce(label, 'unlabelled')
ORDER BY label;
