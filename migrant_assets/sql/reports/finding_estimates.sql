-- Estimates with a standard error for the model findings that have no replicates
-- (reports/model_findings.py), from integration_results, computed rows only:
-- * share/<row>/<week>: the share classified as locals (001 Fig. 4(b)); se of a proportion,
--   sqrt(p (1 - p) / n);
-- * share/locals/<week>: the same share for the test half's locals (their specificity), from
--   the all-features row of settled vs locals: false positives = tp / precision - tp, tp =
--   recall * positives; the reference for a drift of the classifier common to every group;
-- * three_way/<row>/<week>: the three-way F1 of a class (001 Fig. 4(c)); se from its 95%
--   bootstrap interval, (high - low) / (2 * $z_critical).
-- published: whether the report may show the row (published_result of macros.sql); a finding
-- does not test a suppressed one.
SELECT 'share/' || "row" || '/' || week AS quantity,
       share AS value,
       sqrt(share * (1 - share) / nullif(n_users, 0)) AS se,
       n_users,
       published_result(share, prevalence, n_users, $min_group_size) AS published
FROM integration_results
WHERE experiment = $classified_as_locals AND status = 'ok'
UNION ALL
SELECT 'share/' || $locals || '/' || week AS quantity,
       share AS value,
       sqrt(share * (1 - share) / nullif(n_negative, 0)) AS se,
       n_negative AS n_users,
       published
FROM (
    SELECT week,
           published,
           n_users - n_positive AS n_negative,
           1 - (n_positive * recall / nullif("precision", 0) - n_positive * recall)
           / nullif(n_users - n_positive, 0) AS share
    FROM (
        SELECT week, n_users, "precision", recall, round(prevalence * n_users) AS n_positive,
               published_result(share, prevalence, n_users, $min_group_size) AS published
        FROM integration_results
        WHERE experiment = $settled_vs_locals AND "row" = $all_features AND status = 'ok'
    )
)
UNION ALL
SELECT 'three_way/' || "row" || '/' || week AS quantity,
       f1 AS value,
       (f1_ci_high - f1_ci_low) / (2 * $z_critical) AS se,
       n_users,
       published_result(share, prevalence, n_users, $min_group_size) AS published
FROM integration_results
WHERE experiment = $three_way AND status = 'ok' AND "row" <> $random_guess
ORDER BY quantity;
