-- Quarantined input rows per source and reason (SPEC §1), most frequent reason first, ties by
-- name (two runs print the same lines).
SELECT source, reason, count(*) AS "rows"
FROM quarantine
GROUP BY source, reason
ORDER BY source ASC, "rows" DESC, reason ASC;
