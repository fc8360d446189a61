-- Users per label per study (SPEC §3); unlabelled users are counted under 'unlabelled'.
SELECT 'integration' AS study, coalesce(integration_label, 'unlabelled') AS label, count(*) AS n
FROM user_labels
GROUP BY ALL
UNION ALL
SELECT 'departure' AS study, coalesce(departure_label, 'unlabelled') AS label, count(*) AS n
FROM user_labels
GROUP BY ALL
ORDER BY study, label;
