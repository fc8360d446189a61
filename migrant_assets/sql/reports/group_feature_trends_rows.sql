-- The rows of group_feature_trends in the order the figures read them.
SELECT * EXCLUDE (feature_order)
FROM group_feature_trends
ORDER BY study, window_order, feature_order, label;
