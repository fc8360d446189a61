-- Figure 9: feature importances of the random forest of window $window_id, by Gini rank
-- (skipped features, which have none, are left out).
SELECT "rank", feature, family, gini, permutation_mean, permutation_std
FROM feature_importance
WHERE window_id = $window_id AND status = 'ok'
ORDER BY "rank";
