-- Quarantined rows of one ingestion asset ($source) and partition ($partition_key: the day of
-- calls, else ''), per reason.
SELECT reason, count(*) AS n
FROM quarantine
WHERE source = $source AND partition_key = $partition_key
GROUP BY reason
ORDER BY reason;
