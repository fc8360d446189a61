-- Rows of `model_fold_metrics` for one (experiment, window), from `new_rows`; delete-then-insert.
DELETE FROM model_fold_metrics WHERE experiment = $experiment AND window_id = $window_id;
INSERT INTO model_fold_metrics (
    experiment, "row", window_id, model, fold, "precision", recall, f1, pr_auc, n_test, n_pos
)
SELECT experiment, "row", window_id, model, fold, "precision", recall, f1, pr_auc, n_test, n_pos
FROM new_rows;
