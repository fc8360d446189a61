-- Skipped rows of model_results (issue 10): one line per experiment, reason and rows skipped,
-- with the windows it applies to (window_ids, and their labels in order as "windows") and
-- whether every row of those windows was skipped (whole). Read by the report, the demo's
-- summary and the model assets' metadata.
WITH counted AS (
    SELECT *, count(*) OVER (PARTITION BY experiment, window_id) AS n_rows FROM model_results
),
per_window AS (
    SELECT experiment, window_id, window_label, skip_reason AS reason,
           count(*) = any_value(n_rows) AS whole,
           string_agg("row", ', ' ORDER BY "row") AS "rows"
    FROM counted
    WHERE status = 'skipped'
    GROUP BY experiment, window_id, window_label, skip_reason
)
SELECT experiment, list(window_id ORDER BY window_id) AS window_ids,
       string_agg(window_label, ', ' ORDER BY window_id) AS windows, reason, whole, "rows"
FROM per_window
GROUP BY experiment, reason, whole, "rows"
ORDER BY experiment, min(window_id), reason;
