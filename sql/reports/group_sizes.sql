-- Users per study group (user_labels), a group of fewer than $min_group_size users published
-- as null (SPEC §1). share = the group's share of the study's labelled users.
WITH counts AS (
    SELECT 'integration' AS study, integration_label AS label, count(*) AS n
    FROM user_labels WHERE integration_label IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT 'departure', departure_label, count(*)
    FROM user_labels WHERE departure_label IS NOT NULL GROUP BY ALL
)
SELECT study, label,
       CASE WHEN n >= $min_group_size THEN n END AS n,
       CASE WHEN n >= $min_group_size THEN n / sum(n) OVER (PARTITION BY study) END AS share
FROM counts;
