-- The (k, t) matrix of Figure 8(d) for one classifier, from `new_rows`; delete-then-insert.
DELETE FROM transfer_f1 WHERE model = $model;
INSERT INTO transfer_f1 (
    train_window, test_window, train_label, test_label, model, "precision", recall, f1,
    f1_ci_low, f1_ci_high, n_users, n_pos, status, skip_reason
)
SELECT
    train_window, test_window, train_label, test_label, model, "precision", recall, f1,
    f1_ci_low, f1_ci_high, n_users, n_pos, status, skip_reason
FROM new_rows;
