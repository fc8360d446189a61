-- Users per study group (user_labels), published with suppression (SPEC §1): a group of 1 to
-- $min_group_size - 1 users is published as null (primary), and then so is every other
-- non-empty group of its study (complementary): a published count and its share give the
-- study's total, the total less the published counts gives the suppressed ones back, and the
-- trends' cells of the same groups (reports/group_feature_trends.sql) publish the others' counts
-- window by window. An empty group is no person: published as 0. share = the group's share
-- of the study's labelled users. Every label of each study is listed, empty groups included.
WITH labels AS (
    SELECT 'integration' AS study, unnest($integration_labels) AS label
    UNION ALL
    SELECT 'departure', unnest($departure_labels)
),
counts AS (
    SELECT l.study, l.label, count(u.user_id) AS n
    FROM labels AS l
    LEFT JOIN user_labels AS u
        ON (l.study = 'integration' AND u.integration_label = l.label)
        OR (l.study = 'departure' AND u.departure_label = l.label)
    GROUP BY ALL
),
counted AS (
    SELECT
        *,
        count(*) FILTER (WHERE n BETWEEN 1 AND $min_group_size - 1)
            OVER (PARTITION BY study) AS n_small,
        sum(n) OVER (PARTITION BY study) AS total
    FROM counts
),
published AS (
    SELECT
        *,
        n > 0 AND n_small > 0 AS suppressed
    FROM counted
)
SELECT
    study,
    label,
    CASE WHEN NOT suppressed THEN n END AS n,
    CASE WHEN NOT suppressed AND total > 0 THEN n / total END AS share,
    suppressed
FROM published
ORDER BY study, label;
