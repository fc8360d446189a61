-- Rows of one integration experiment of integration_results (001 Section 5). F1 rows rest on
-- round(prevalence * n_users) positives, share rows on n_users users of the group: a row resting
-- on fewer than $min_group_size users (or negatives) is published with its numbers null and
-- suppressed = true (SPEC §1; published_result of macros.sql). A skipped row (issue 10) has no
-- numbers; it keeps its status and skip_reason.
WITH rows AS (
    SELECT *,
           published_result(share, prevalence, n_users, $min_group_size) AS published
    FROM integration_results
    WHERE experiment = $experiment
)
SELECT "row", target, step, removed_group, week,
       CASE WHEN published THEN "precision" END AS "precision",
       CASE WHEN published THEN recall END AS recall,
       CASE WHEN published THEN f1 END AS f1,
       CASE WHEN published THEN f1_ci_low END AS f1_ci_low,
       CASE WHEN published THEN f1_ci_high END AS f1_ci_high,
       CASE WHEN published THEN share END AS share,
       CASE WHEN published THEN share_ci_low END AS share_ci_low,
       CASE WHEN published THEN share_ci_high END AS share_ci_high,
       CASE WHEN published THEN n_users END AS n_users,
       NOT published AND status = 'ok' AS suppressed,
       status, skip_reason
FROM rows
ORDER BY week, target, step NULLS LAST, "row";
