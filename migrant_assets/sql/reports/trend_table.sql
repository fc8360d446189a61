-- Every group mean of the study weeks (integration W1..W4, departure A..C) for the report's
-- appendix: the integration study first, then by feature, week and group.
SELECT *
FROM group_feature_trends
WHERE window_family IN ('integration_week', 'departure_week')
ORDER BY study DESC, feature_order ASC, window_order ASC, label ASC;
