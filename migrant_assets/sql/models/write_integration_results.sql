-- Rows of `integration_results` for one experiment, from `new_rows`; delete-then-insert.
DELETE FROM integration_results WHERE experiment = $experiment;
INSERT INTO integration_results (
    experiment, "row", target, step, removed_group, window_id, week, "precision", recall, f1,
    f1_ci_low, f1_ci_high, share, share_ci_low, share_ci_high, cv_f1, c, paper_value, n_users,
    prevalence, seed, status, skip_reason, dropped_groups
)
SELECT
    experiment, "row", target, step, removed_group, window_id, week, "precision", recall, f1,
    f1_ci_low, f1_ci_high, share, share_ci_low, share_ci_high, cv_f1, c, paper_value, n_users,
    prevalence, seed, status, skip_reason, dropped_groups
FROM new_rows;
