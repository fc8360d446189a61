-- Quarantined input rows per source and reason (SPEC §1), most frequent reason first.
SELECT source, reason, count(*) AS "rows"
FROM quarantine
GROUP BY source, reason
ORDER BY source ASC, "rows" DESC;
