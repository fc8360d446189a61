-- Figure 8(a-c) as shown: every row of departure_models (each classifier and the random guess at
-- each k partition that exists), ordered by row and k (a window id ends with its last day).
SELECT "row", window_id, window_label, "precision", recall, f1, f1_ci_low, f1_ci_high, n_users,
       n_pos, status, skip_reason
FROM departure_models
ORDER BY "row", window_id;
