-- Skipped rows of integration_results (issue 10) by experiment, reason and rows skipped, with
-- the test weeks they apply to, as skipped_model_results.sql.
WITH counted AS (
    SELECT *, count(*) OVER (PARTITION BY experiment, window_id) AS n_rows
    FROM integration_results
),
per_week AS (
    SELECT experiment, window_id, week, skip_reason AS reason,
           count(*) = any_value(n_rows) AS whole,
           string_agg(DISTINCT "row", ', ' ORDER BY "row") AS "rows"
    FROM counted
    WHERE status = 'skipped'
    GROUP BY experiment, window_id, week, skip_reason
)
SELECT experiment, list(window_id ORDER BY window_id) AS window_ids,
       string_agg(week, ', ' ORDER BY window_id) AS windows, reason, whole, "rows"
FROM per_week
GROUP BY experiment, reason, whole, "rows"
ORDER BY experiment, min(window_id), reason;
