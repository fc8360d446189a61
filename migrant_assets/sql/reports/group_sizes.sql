-- Users per study group (user_labels), published with suppression (SPEC §1): a group of 1 to
-- $min_group_size - 1 users is published as null (primary), and when a study has exactly one
-- such group, its smallest other non-empty group is suppressed too (complementary), so the
-- shares and counts published beside it cannot give the suppressed count back. An empty group
-- is no person: published as 0, and never the complement. share = the group's share
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
ranked AS (
    SELECT
        *,
        count(*) FILTER (WHERE n BETWEEN 1 AND $min_group_size - 1)
            OVER (PARTITION BY study) AS n_small,
        row_number() OVER (
            PARTITION BY study, n = 0, n < $min_group_size ORDER BY n, label
        ) AS rank,
        sum(n) OVER (PARTITION BY study) AS total
    FROM counts
),
published AS (
    SELECT
        *,
        n BETWEEN 1 AND $min_group_size - 1
        OR (n_small = 1 AND n >= $min_group_size AND rank = 1) AS suppressed
    FROM ranked
)
SELECT
    study,
    label,
    CASE WHEN NOT suppressed THEN n END AS n,
    CASE WHEN NOT suppressed AND total > 0 THEN n / total END AS share,
    suppressed
FROM published
ORDER BY study, label;
