-- Every classifier row of `model_results` and `integration_results` beside the random guess of
-- the same experiment, window (and target class): does the F1 interval lie above it (SPEC §6)?
-- A chance-level classifier that predicts many positives scores more than random guess, up to
-- 2p/(1+p) for predicting everyone positive, so that stricter bar is reported too. n_pos is the
-- number of positive test users (too few make any F1 comparison noise). Skipped rows (issue 10)
-- have no F1 and are not compared.
WITH departure AS (
    SELECT r.experiment, r."row", NULL::VARCHAR AS target, r.window_id, r.f1, r.f1_ci_low,
           g.f1 AS random_f1, r.n_pos
    FROM model_results r
    JOIN model_results g
      ON g.experiment = r.experiment AND g.window_id = r.window_id AND g.model = 'random guess'
     AND g.status = 'ok'
    WHERE r.model <> 'random guess' AND r.status = 'ok'
),
integration AS (
    SELECT r.experiment, r."row", r.target, r.window_id, r.f1, r.f1_ci_low, g.f1 AS random_f1,
           CAST(round(r.n_users * r.prevalence) AS BIGINT) AS n_pos
    FROM integration_results r
    JOIN integration_results g
      ON g.experiment = r.experiment AND g.window_id = r.window_id AND g.target = r.target
     AND g."row" = 'random guess' AND g.status = 'ok'
    WHERE r."row" <> 'random guess' AND r.f1 IS NOT NULL AND r.status = 'ok'
)
SELECT
    *,
    f1_ci_low > random_f1 AS beats,
    2 * random_f1 / (1 + random_f1) AS all_positive_f1,
    f1_ci_low > 2 * random_f1 / (1 + random_f1) AS beats_all_positive
FROM (SELECT * FROM departure UNION ALL SELECT * FROM integration)
ORDER BY experiment, window_id, "row", target;
