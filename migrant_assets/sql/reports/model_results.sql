-- Rows of one departure experiment of model_results over the windows $window_ids (first-k-days
-- windows, k = $ks) for the report and Figure 8(a-c). Metrics of the positive class rest on
-- n_pos positives and n_users - n_pos negatives: a row with fewer than $min_group_size of either
-- is published with every number null and suppressed = true (SPEC §1). A skipped row (issue 10)
-- has no metrics; it keeps its status and skip_reason, and its counts are published under the
-- same rule. training_rows says when the fits saw a sample of the training users (issue 13's
-- caps, docs/models.md).
WITH windows AS (SELECT unnest($window_ids) AS window_id, unnest($ks) AS k),
rows AS (
    SELECT m.*, w.k,
           m.n_pos >= $min_group_size AND m.n_users - m.n_pos >= $min_group_size AS published
    FROM model_results m
    JOIN windows w USING (window_id)
    WHERE m.experiment = $experiment
)
SELECT "row", model, window_label, k,
       CASE WHEN published THEN "precision" END AS "precision",
       CASE WHEN published THEN recall END AS recall,
       CASE WHEN published THEN f1 END AS f1,
       CASE WHEN published THEN f1_ci_low END AS f1_ci_low,
       CASE WHEN published THEN f1_ci_high END AS f1_ci_high,
       CASE WHEN published THEN pr_auc END AS pr_auc,
       CASE WHEN published THEN n_users END AS n_users,
       CASE WHEN published THEN n_pos END AS n_pos,
       -- the training rows of the folds' fits, and whether they were a sample (models caps)
       CASE WHEN published AND n_train < n_train_available
           THEN format('{:,} of {:,} (sampled)', n_train, n_train_available)
           WHEN published THEN format('{:,}', n_train) END AS training_rows,
       published AND n_train < n_train_available AS sampled,
       NOT published AND status = 'ok' AS suppressed,
       status, skip_reason
FROM rows
ORDER BY k, "row", model;
