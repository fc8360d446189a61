-- Group mean ± standard error of every feature per window and group (SPEC §6 "Descriptive
-- figures"; 001 Figures 2-3, 000 Figures 3, 5-7). Statistics over the non-null values of the
-- group's users in the window: n = count, mean, se = sample sd / sqrt(n). A cell of fewer than
-- $min_group_size users is published with n, mean and se null and suppressed = true (SPEC §1).
-- Groups are the labels; users without one (study.population subscribers / all_active) are in no
-- labelled group. Group 'all' (every featurised user of the window, labelled or not) is added
-- when $with_all (population other than 'labelled') and for the descriptive study's windows.
-- Run once per window (reports/trends.py), so memory holds one window's values, not all; the
-- long values are streamed into both passes (NOT MATERIALIZED), never held whole.
-- Sums are exact, so the statistics do not depend on row order: the mean sums fixed-point values
-- (1e-12), the sd sums the fixed-point squared deviations from that mean (two passes).
INSERT INTO group_feature_trends
WITH windows AS (
    SELECT unnest($window_ids) AS window_id,
           unnest($window_labels) AS window_label,
           unnest($window_families) AS window_family,
           unnest($window_orders) AS window_order
),
catalogue AS (
    SELECT unnest($features) AS feature,
           unnest($feature_families) AS feature_family,
           unnest(generate_series(1, len($features))) AS feature_order
),
long AS NOT MATERIALIZED (
    UNPIVOT (SELECT f.* FROM features f SEMI JOIN windows w ON f.window_id = w.window_id)
    ON COLUMNS(* EXCLUDE (window_id, study, user_id, label))
    INTO NAME feature VALUE value
),
grouped AS NOT MATERIALIZED (
    SELECT study, window_id, label, feature, value FROM long WHERE label IS NOT NULL
    UNION ALL
    SELECT study, window_id, 'all' AS label, feature, value FROM long
    WHERE $with_all OR study = 'descriptive'
),
means AS (
    SELECT study, window_id, label, feature,
           count(value) AS n,
           CAST(avg(CAST(value AS DECIMAL(38, 12))) AS DOUBLE) AS mean
    FROM grouped
    GROUP BY ALL
),
stats AS (
    SELECT m.study, m.window_id, m.label, m.feature, m.n, m.mean,
           sqrt(CAST(sum(CAST((CAST(l.value AS DOUBLE) - m.mean) ^ 2 AS DECIMAL(38, 12)))
                     AS DOUBLE) / nullif(m.n - 1, 0)) / sqrt(m.n) AS se
    FROM means m
    JOIN grouped l USING (study, window_id, label, feature)
    GROUP BY m.study, m.window_id, m.label, m.feature, m.n, m.mean
)
SELECT s.study, w.window_family, c.feature, c.feature_family, s.window_id, w.window_label,
       w.window_order, s.label,
       CASE WHEN s.n >= $min_group_size THEN s.n END AS n,
       CASE WHEN s.n >= $min_group_size THEN s.mean END AS mean,
       CASE WHEN s.n >= $min_group_size THEN s.se END AS se,
       s.n < $min_group_size AS suppressed,
       c.feature_order
FROM stats s
JOIN windows w USING (window_id)
JOIN catalogue c USING (feature);
