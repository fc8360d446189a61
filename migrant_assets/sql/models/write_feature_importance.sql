-- Figure 9 importances of one window, from `new_rows`; delete-then-insert.
DELETE FROM feature_importance WHERE window_id = $window_id;
INSERT INTO feature_importance (
    window_id, feature, family, gini, permutation_mean, permutation_std, "rank", status,
    skip_reason
)
SELECT window_id, feature, family, gini, permutation_mean, permutation_std, "rank", status,
       skip_reason
FROM new_rows;
