-- Replicates of the model findings (reports/model_findings.py): each fold forest's Gini
-- importance of every feature (departure_feature_importance_folds), Figure 9 per fold.
-- quantity = gini/<window_id>/<feature>.
SELECT 'gini/' || window_id || '/' || feature AS quantity,
       fold AS replicate,
       gini AS value
FROM departure_feature_importance_folds
ORDER BY quantity, replicate;
