-- The windows whose group means group_feature_trends withholds because the calls do not cover
-- some of their days (uncovered: why), in calendar order, with their family (the report and the
-- summary say what the data cannot give).
SELECT window_label, window_family, min(uncovered) AS uncovered
FROM group_feature_trends
WHERE uncovered IS NOT NULL
GROUP BY window_label, window_family, window_order
ORDER BY window_order;
