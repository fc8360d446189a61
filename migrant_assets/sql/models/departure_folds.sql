-- The stored departure folds of one seed.
SELECT user_id, label, fold FROM departure_folds WHERE seed = $seed ORDER BY user_id;
