-- Row accounting of the calls asset, read from the stored tables (SPEC §1): per day, the rows
-- landed on it, the other party's records it excluded, the records stamped apart from their
-- call's other record and the duplicates of a call that differ from the record kept, as
-- accounting_calls recorded them (the calls asset adds the last three to a file of an earlier
-- version), the rows stored now as accepted and as quarantined, and why
-- the day is empty when it is.
SELECT
    a.partition_key AS part,
    a.rows_read,
    a.rows_excluded,
    a.records_stamped_apart,
    a.duplicates_differing,
    coalesce(c.n, 0) AS rows_accepted,
    coalesce(q.n, 0) AS rows_quarantined,
    a.note
FROM accounting_calls AS a
LEFT JOIN (
    SELECT CAST(call_date AS VARCHAR) AS partition_key, count(*) AS n
    FROM calls
    GROUP BY call_date
) AS c ON c.partition_key = a.partition_key
LEFT JOIN (
    SELECT partition_key, count(*) AS n FROM quarantine_calls GROUP BY partition_key
) AS q ON q.partition_key = a.partition_key
ORDER BY part;
