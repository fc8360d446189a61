-- Why a model result the findings need is missing: the skipped rows of model_results
-- (reports/model_findings.py), by experiment, row and window.
SELECT experiment, "row", window_id, any_value(skip_reason) AS skip_reason
FROM model_results
WHERE status = 'skipped'
GROUP BY ALL
ORDER BY ALL;
