-- The papers' qualitative findings tested on our data (reports/findings.py). Every finding is a
-- conjunction of pairwise comparisons (registered view finding_comparisons): value_a - value_b is
-- expected to have the sign `sign` (+1: a > b, -1: a < b).
-- * Between groups (paired = false): group means of group_feature_trends; se of the difference
--   = sqrt(se_a^2 + se_b^2) (independent groups); a suppressed mean leaves it untested, and so
--   does a group none of whose users has a value (no row: the reason says which).
-- * Over time within a group (paired = true): the same users in both windows; the difference is
--   the mean of the per-user differences, se = their sample sd / sqrt(n pairs); fewer than
--   $min_group_size pairs leaves it untested (SPEC §1).
-- A comparison reading a window the calls do not fully cover (group_feature_trends.uncovered)
-- is untested, with that reason: missing data is not silence (SPEC §3).
-- $untested_reason: why a group-means finding is untested when its inputs are missing (a run
-- before findings failed: reports/findings.py stands in empty tables), else null.
-- Means and sds are exact two-pass sums, as in group_feature_trends.sql.
-- z = difference / se (none when se = 0: the values compared do not vary; untested, with that
-- reason). A finding holds when every comparison has sign * z >= $z_critical; the
-- comparison reported is the weakest (smallest sign * z). Untested comparisons: holds is null,
-- and the comparison reported is one without a z.
-- The model findings (registered view model_finding_rows, reports/model_findings.py: tested on
-- the classifiers' stored per-fold results) follow, in the same columns (kind = 'model'), in
-- their order there (model_order).
CREATE OR REPLACE TABLE findings AS
WITH uncovered AS (
    SELECT DISTINCT study, window_id, uncovered FROM group_feature_trends
    WHERE uncovered IS NOT NULL
),
independent AS (
    SELECT c.finding_id, c.comparison, c.sign,
           a.mean AS value_a, b.mean AS value_b, a.mean - b.mean AS difference,
           sqrt(a.se ^ 2 + b.se ^ 2) AS se,
           -- no row of a side: the group has no user in that window (no row of any feature),
           -- or none of its users has a value of the feature (not a suppressed mean)
           ga.label IS NULL OR gb.label IS NULL AS no_group,
           a.feature IS NULL OR b.feature IS NULL AS no_values,
           coalesce(ua.uncovered, ub.uncovered) AS uncovered
    FROM finding_comparisons c
    LEFT JOIN group_feature_trends a
        ON a.study = c.study AND a.feature = c.feature AND a.window_id = c.window_a
       AND a.label = c.label_a
    LEFT JOIN group_feature_trends b
        ON b.study = c.study AND b.feature = c.feature AND b.window_id = c.window_b
       AND b.label = c.label_b
    LEFT JOIN (SELECT DISTINCT study, window_id, label FROM group_feature_trends) ga
        ON ga.study = c.study AND ga.window_id = c.window_a AND ga.label = c.label_a
    LEFT JOIN (SELECT DISTINCT study, window_id, label FROM group_feature_trends) gb
        ON gb.study = c.study AND gb.window_id = c.window_b AND gb.label = c.label_b
    LEFT JOIN uncovered ua ON ua.study = c.study AND ua.window_id = c.window_a
    LEFT JOIN uncovered ub ON ub.study = c.study AND ub.window_id = c.window_b
    WHERE NOT c.paired
),
-- The paired values read only the (study, week, group) sides and the features the paired
-- comparisons name: unpivoting every feature of every user of the weeks grew faster than the
-- users (107.6 s at 10x against 6.3 s at 1x; benchmarks/findings.py, docs/scale.md).
paired_sides AS (
    SELECT study, window_a AS window_id, label_a AS label FROM finding_comparisons WHERE paired
    UNION
    SELECT study, window_b AS window_id, label_b AS label FROM finding_comparisons WHERE paired
),
paired_unpivoted AS (
    UNPIVOT (
        SELECT f.* FROM features f
        JOIN paired_sides s ON s.study = f.study AND s.window_id = f.window_id
                           AND s.label = f.label
    )
    ON COLUMNS(* EXCLUDE (window_id, study, user_id, label))
    INTO NAME feature VALUE value
),
paired_long AS (
    SELECT * FROM paired_unpivoted
    WHERE feature IN (SELECT feature FROM finding_comparisons WHERE paired)
),
paired_values AS (
    SELECT c.finding_id, c.comparison,
           CAST(a.value AS DOUBLE) AS value_a,
           CAST(b.value AS DOUBLE) AS value_b,
           CAST(a.value AS DOUBLE) - CAST(b.value AS DOUBLE) AS difference
    FROM finding_comparisons c
    JOIN paired_long a
        ON a.study = c.study AND a.feature = c.feature AND a.window_id = c.window_a
       AND a.label = c.label_a
    JOIN paired_long b
        ON b.user_id = a.user_id AND b.study = c.study AND b.feature = c.feature
       AND b.window_id = c.window_b AND b.label = c.label_b
    WHERE c.paired
),
paired_means AS (
    SELECT finding_id, comparison,
           count(*) AS n,
           CAST(avg(CAST(value_a AS DECIMAL(38, 12))) AS DOUBLE) AS value_a,
           CAST(avg(CAST(value_b AS DECIMAL(38, 12))) AS DOUBLE) AS value_b,
           CAST(avg(CAST(difference AS DECIMAL(38, 12))) AS DOUBLE) AS difference
    FROM paired_values
    GROUP BY ALL
),
paired_stats AS (
    SELECT m.finding_id, m.comparison, m.n, m.value_a, m.value_b, m.difference,
           sqrt(CAST(sum(CAST((v.difference - m.difference) ^ 2 AS DECIMAL(38, 12))) AS DOUBLE)
                / nullif(m.n - 1, 0)) / sqrt(m.n) AS se
    FROM paired_means m
    JOIN paired_values v USING (finding_id, comparison)
    GROUP BY m.finding_id, m.comparison, m.n, m.value_a, m.value_b, m.difference
),
paired AS (
    SELECT c.finding_id, c.comparison, c.sign,
           CASE WHEN p.n >= $min_group_size THEN p.value_a END AS value_a,
           CASE WHEN p.n >= $min_group_size THEN p.value_b END AS value_b,
           CASE WHEN p.n >= $min_group_size THEN p.difference END AS difference,
           CASE WHEN p.n >= $min_group_size THEN p.se END AS se,
           g.label IS NULL AS no_group,
           p.n IS NULL AS no_values,
           coalesce(ua.uncovered, ub.uncovered) AS uncovered
    FROM finding_comparisons c
    LEFT JOIN paired_stats p USING (finding_id, comparison)
    LEFT JOIN (SELECT DISTINCT study, window_id, label FROM group_feature_trends) g
        ON g.study = c.study AND g.window_id = c.window_a AND g.label = c.label_a
    LEFT JOIN uncovered ua ON ua.study = c.study AND ua.window_id = c.window_a
    LEFT JOIN uncovered ub ON ub.study = c.study AND ub.window_id = c.window_b
    WHERE c.paired
),
scored AS (
    SELECT *,
           CASE WHEN uncovered IS NULL THEN difference / nullif(se, 0) END AS z,
           CASE WHEN uncovered IS NULL THEN sign * difference / nullif(se, 0) END AS signed_z
    FROM (SELECT * FROM independent UNION ALL BY NAME SELECT * FROM paired)
),
weakest AS (
    -- two comparisons of the same z: the first by name, whatever order the rows came in; a
    -- comparison without a z first (it leaves the finding untested: a tested one beside it
    -- would show a z the verdict does not rest on)
    SELECT finding_id,
           arg_min({'comparison': comparison, 'value_a': value_a, 'value_b': value_b,
                    'difference': difference, 'se': se, 'z': z, 'signed_z': signed_z},
                   (signed_z IS NOT NULL, coalesce(signed_z, 0), comparison)) AS w,
           count(signed_z) = count(*) AS tested,
           bool_and(signed_z >= $z_critical) AS all_hold,
           bool_or(no_group) AS no_group,
           bool_or(no_values) AS no_values,
           bool_or(se IS NULL) AS suppressed,
           min(sign) AS sign,  -- every comparison of a finding has the finding's direction
           bool_or(se = 0) AS no_spread,
           min(uncovered) AS uncovered
    FROM scored
    GROUP BY finding_id
)
SELECT s.finding_id, s.study, s.paper_section, s.statement, s.test, s.feature, s.groups,
       s."window", w.w.comparison AS compared, w.w.value_a AS value_a, w.w.value_b AS value_b,
       w.w.difference AS difference, w.w.se AS se, w.w.z AS z,
       CASE WHEN w.tested THEN w.all_hold END AS holds,
       CASE WHEN NOT w.tested THEN 'untested' WHEN w.all_hold THEN 'holds'
            WHEN w.w.signed_z <= -$z_critical THEN 'reversed'
            WHEN w.w.signed_z < 0 THEN 'wrong sign' ELSE 'too weak'
       END AS verdict,
       'group means' AS kind,
       'z of a difference of means' AS method,
       CAST(w.sign * $z_critical AS DOUBLE) AS critical,
       CAST(NULL AS BIGINT) AS replicates,
       CASE WHEN NOT w.tested THEN coalesce($untested_reason,
           CASE WHEN w.uncovered IS NOT NULL THEN w.uncovered
           WHEN w.no_group THEN 'a group it compares has no user in that window (an '
               || 'empty group, or its study''s labels withheld: see what the data cannot give)'
           WHEN w.no_values THEN 'no user of a group it compares has a value of '
               || s.feature || ' in that window (the data may lack what it is computed from: '
               || 'see what the data cannot give; else no such user made the calls it needs)'
           WHEN w.no_spread AND NOT w.suppressed THEN 'the values it compares do not vary '
               || '(standard error 0: every user of a group, or every pair, has the same '
               || 'value), so no z can be formed'
           ELSE 'a mean it compares is suppressed (fewer than ' || $min_group_size
               || ' users or pairs)' END) END AS reason,
       s.finding_order
FROM finding_specs s
LEFT JOIN weakest w USING (finding_id)
UNION ALL
SELECT finding_id, study, paper_section, statement, test, feature, groups, "window", compared,
       CAST(value_a AS DOUBLE) AS value_a, CAST(value_b AS DOUBLE) AS value_b,
       CAST(difference AS DOUBLE) AS difference, CAST(se AS DOUBLE) AS se,
       CAST(z AS DOUBLE) AS z, CAST(holds AS BOOLEAN) AS holds,
       CASE WHEN holds IS NULL THEN 'untested' WHEN holds THEN 'holds'
            WHEN z <= -critical THEN 'reversed' WHEN z < 0 THEN 'wrong sign' ELSE 'too weak'
       END AS verdict,
       kind, method,
       CAST(critical AS DOUBLE) AS critical, CAST(replicates AS BIGINT) AS replicates,
       reason,
       (SELECT count(*) FROM finding_specs) + row_number() OVER (ORDER BY model_order) - 1
           AS finding_order
FROM model_finding_rows;

COMMENT ON TABLE findings IS
'Every qualitative finding of the papers tested on our data (reports/findings.py).';
COMMENT ON COLUMN findings.finding_id IS 'I01.. (integration, 001), D01.. (departure, 000).';
COMMENT ON COLUMN findings.study IS 'integration | departure';
COMMENT ON COLUMN findings.paper_section IS 'The paper, section and figure stating it.';
COMMENT ON COLUMN findings.statement IS 'The finding as the paper states it.';
COMMENT ON COLUMN findings.test IS
'difference | order | extreme | change (group means); folds | proportions | intervals (model)';
COMMENT ON COLUMN findings.feature IS
'The feature compared (a model finding: the metric, e.g. f1, gini, share).';
COMMENT ON COLUMN findings.groups IS 'The groups compared, in the stated order.';
COMMENT ON COLUMN findings."window" IS 'The week (or the two weeks of a change).';
COMMENT ON COLUMN findings.compared IS 'The weakest comparison: label and week of a vs b.';
COMMENT ON COLUMN findings.value_a IS 'Mean of side a of the weakest comparison.';
COMMENT ON COLUMN findings.value_b IS 'Mean of side b of the weakest comparison.';
COMMENT ON COLUMN findings.difference IS 'value_a - value_b (paired mean for a change).';
COMMENT ON COLUMN findings.se IS 'Standard error of the difference.';
COMMENT ON COLUMN findings.z IS
'The test statistic of the weakest comparison: difference / se (a t for the folds test).';
COMMENT ON COLUMN findings.holds IS
'Every comparison has the paper''s sign and its statistic reaches critical; null: untested.';
COMMENT ON COLUMN findings.verdict IS
'holds | too weak | wrong sign (not significant) | reversed (significant) | untested';
COMMENT ON COLUMN findings.kind IS
'group means (a feature''s group means) | model (a classifier result, 000 §4 / 001 §5)';
COMMENT ON COLUMN findings.method IS 'How the statistic is computed (reports/findings.py).';
COMMENT ON COLUMN findings.critical IS
'The value the statistic needed, with the paper''s sign: ±1.96 for group means (-1.96 where '
'a < b is stated: z = (a - b) / se), else Student''s t at 97.5% with replicates - 1 df (a '
'model statistic is positive in the paper''s direction).';
COMMENT ON COLUMN findings.replicates IS 'CV folds of a folds test (null: not a folds test).';
COMMENT ON COLUMN findings.reason IS 'Why holds is null (untested), or null.';
COMMENT ON COLUMN findings.finding_order IS 'Position of the finding in the papers'' order.';

SELECT * EXCLUDE (finding_order) FROM findings ORDER BY finding_order;
