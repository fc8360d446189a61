-- Skipped (k, t) pairs of transfer_f1 (issue 10) by reason, as skipped_model_results.sql: the
-- windows skipped are the train windows all of whose pairs are skipped (a pair is skipped with
-- the reason of its k window, else of its t window), rows says how many pairs of all of them.
WITH windows AS (
    SELECT train_window, any_value(train_label) AS label, any_value(skip_reason) AS reason
    FROM transfer_f1
    GROUP BY train_window
    HAVING bool_and(status = 'skipped')
),
pairs AS (
    SELECT skip_reason AS reason, count(*) AS n, any_value(total) AS total
    FROM (SELECT *, count(*) OVER () AS total FROM transfer_f1)
    WHERE status = 'skipped'
    GROUP BY skip_reason
)
SELECT 'transfer' AS experiment, list(w.train_window ORDER BY w.train_window) AS window_ids,
       string_agg(w.label, ', ' ORDER BY w.train_window) AS windows, p.reason,
       p.n = p.total AS whole, format('{} of {} train-test pairs', p.n, p.total) AS "rows"
FROM pairs p
LEFT JOIN windows w USING (reason)
GROUP BY p.reason, p.n, p.total
ORDER BY min(w.train_window), p.reason;
