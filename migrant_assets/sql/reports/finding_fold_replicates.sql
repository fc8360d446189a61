-- Replicates of the model findings (reports/model_findings.py): each classifier row's metrics
-- per cross-validation fold (model_fold_metrics), and the fold's prevalence (the F1 of random
-- guess on its test users). quantity = fold/<experiment>/<row>/<window_id>/<metric>.
SELECT 'fold/' || experiment || '/' || "row" || '/' || window_id || '/' || metric AS quantity,
       fold AS replicate,
       value
FROM (
    SELECT experiment, "row", window_id, fold, "precision", recall, f1,
           n_pos / nullif(n_test, 0) AS prevalence
    FROM model_fold_metrics
)
UNPIVOT INCLUDE NULLS (value FOR metric IN ("precision", recall, f1, prevalence))
ORDER BY quantity, replicate;
