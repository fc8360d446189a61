-- The integration study's Table 2 as the report shows it (001 Section 4), in feature order.
SELECT * FROM integration_trajectories ORDER BY feature_order;
