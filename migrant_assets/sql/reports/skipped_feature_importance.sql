-- Skipped features of feature_importance (issue 10) by window and reason, as
-- skipped_model_results.sql (the window is the reference window, k = 14).
WITH counted AS (
    SELECT *, count(*) OVER (PARTITION BY window_id) AS n_rows FROM feature_importance
)
SELECT 'feature_importance' AS experiment, [window_id] AS window_ids, NULL::VARCHAR AS windows,
       skip_reason AS reason, count(*) = any_value(n_rows) AS whole,
       string_agg(feature, ', ' ORDER BY feature) AS "rows"
FROM counted
WHERE status = 'skipped'
GROUP BY window_id, skip_reason
ORDER BY window_id, reason;
