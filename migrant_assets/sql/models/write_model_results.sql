-- Rows of `model_results` for one (experiment, window), from the registered relation `new_rows`;
-- delete-then-insert (run inside one transaction).
DELETE FROM model_results WHERE experiment = $experiment AND window_id = $window_id;
INSERT INTO model_results (
    experiment, "row", window_id, window_label, model, n_features, "precision", recall, f1,
    f1_ci_low, f1_ci_high, pr_auc, paper_f1, n_users, n_pos, prevalence, seed, status,
    skip_reason, dropped_groups
)
SELECT
    experiment, "row", window_id, window_label, model, n_features, "precision", recall, f1,
    f1_ci_low, f1_ci_high, pr_auc, paper_f1, n_users, n_pos, prevalence, seed, status,
    skip_reason, dropped_groups
FROM new_rows;
