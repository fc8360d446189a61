-- Group mean ± standard error of every feature in one window, per group (SPEC §6 "Descriptive
-- figures"; 001 Figures 2-3, 000 Figures 3, 5-7). Statistics over the non-null values of the
-- group's users in the window: n = count, mean, se = sample sd / sqrt(n). A cell of fewer than
-- $min_group_size users is published with n, mean and se null and suppressed = true (SPEC §1),
-- and so is every other group's cell of the same study, window and feature (complementary:
-- the others' counts and means, beside group 'all' or the study's total, would give the
-- suppressed cell back); a feature with no value in a group has no row. Groups are the
-- labels; users without one (study.population subscribers / all_active) are in no labelled
-- group. Group 'all' (every
-- featurised user of the window, labelled or not) is added when $with_all (population other
-- than 'labelled') and for the descriptive study's windows.
-- A window holding days the calls do not cover ($uncovered: why, else null; SPEC §3, missing
-- data is not silence) has its rows with n, mean and se withheld and that reason.
-- Run once per window (reports/trends.py) on the window's own feature table $feature_table (a
-- constant filter on window_id, so its other windows' row groups are skipped).
-- Two passes over the window's rows, kept wide (one column per feature; DuckDB may share them
-- between the passes as one subplan): the counts and means, aggregated over the users, then the
-- squared deviations from the means over the long (UNPIVOTed) values. Sums are exact, so the
-- statistics do not depend on row order: the mean sums fixed-point values (1e-12), the sd the
-- fixed-point squared deviations.
INSERT INTO group_feature_trends
WITH catalogue AS (
    SELECT unnest($features) AS feature,
           unnest($feature_families) AS feature_family,
           unnest(generate_series(1, len($features))) AS feature_order
),
grouped AS NOT MATERIALIZED (
    SELECT * EXCLUDE (window_id, user_id) FROM $feature_table
    WHERE window_id = $window_id AND label IS NOT NULL
    UNION ALL
    SELECT * EXCLUDE (window_id, user_id) REPLACE ('all' AS label) FROM $feature_table
    WHERE window_id = $window_id AND ($with_all OR study = 'descriptive')
),
counts AS (
    SELECT study, label, count(COLUMNS(* EXCLUDE (study, label)))
    FROM grouped
    GROUP BY study, label
),
means_wide AS (
    SELECT study, label,
           CAST(avg(CAST(CAST(COLUMNS(* EXCLUDE (study, label)) AS DOUBLE) AS DECIMAL(38, 12)))
                AS DOUBLE)
    FROM grouped
    GROUP BY study, label
),
means AS (
    SELECT study, label, feature, c.n, m.mean
    FROM (UNPIVOT counts ON COLUMNS(* EXCLUDE (study, label)) INTO NAME feature VALUE n) AS c
    INNER JOIN
        (UNPIVOT means_wide ON COLUMNS(* EXCLUDE (study, label)) INTO NAME feature VALUE mean) AS m
        USING (study, label, feature)
),
long AS NOT MATERIALIZED (
    UNPIVOT grouped ON COLUMNS(* EXCLUDE (study, label)) INTO NAME feature VALUE value
),
stats AS (
    SELECT m.study, m.label, m.feature, m.n, m.mean,
           sqrt(CAST(sum(CAST((CAST(l.value AS DOUBLE) - m.mean) ^ 2 AS DECIMAL(38, 12)))
                     AS DOUBLE) / nullif(m.n - 1, 0)) / sqrt(m.n) AS se
    FROM means AS m
    INNER JOIN long AS l USING (study, label, feature)
    GROUP BY m.study, m.label, m.feature, m.n, m.mean
)
SELECT s.study, $window_family AS window_family, c.feature, c.feature_family,
       $window_id AS window_id, $window_label AS window_label, $window_order AS window_order,
       s.label,
       CASE WHEN NOT s.suppressed AND $uncovered IS NULL THEN s.n END AS n,
       CASE WHEN NOT s.suppressed AND $uncovered IS NULL THEN s.mean END AS mean,
       CASE WHEN NOT s.suppressed AND $uncovered IS NULL THEN s.se END AS se,
       s.suppressed,
       CAST($uncovered AS VARCHAR) AS uncovered,
       c.feature_order
FROM (
    SELECT *, bool_or(n < $min_group_size) OVER (PARTITION BY study, feature) AS suppressed
    FROM stats
) AS s
INNER JOIN catalogue AS c USING (feature);
