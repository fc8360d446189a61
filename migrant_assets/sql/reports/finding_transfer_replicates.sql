-- Replicates of the model findings (reports/model_findings.py): Figure 8(d) per fold, the
-- classifier $model fit on first-k-days features and tested on the fold's first-t-days features
-- (departure_transfer_fold_metrics). quantity = transfer/<train window>/<test window>/<metric>.
SELECT 'transfer/' || train_window || '/' || test_window || '/' || metric AS quantity,
       fold AS replicate,
       value
FROM (
    SELECT train_window, test_window, fold, "precision", recall, f1
    FROM departure_transfer_fold_metrics
    WHERE model = $model
)
UNPIVOT INCLUDE NULLS (value FOR metric IN ("precision", recall, f1))
ORDER BY quantity, replicate;
